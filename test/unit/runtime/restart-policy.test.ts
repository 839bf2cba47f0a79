import test from 'ava';
import { NboxError } from '../../../src/errors';
import {
  checkAutoRemove, killCancelsRestart, parseRestartPolicy, restartDelay, shouldRestart, validateRestartPolicy,
  type RestartPolicy, type RunEnd,
} from '../../../src/runtime/restart-policy';

const ONLY_ON_FAILURE = "invalid restart policy: maximum retry count can only be used with 'on-failure'";
const NOT_AN_INTEGER = 'invalid restart policy format: maximum retry count must be an integer';

test('parseRestartPolicy reads the four policies, with a retry count where one is allowed', (t) => {
  t.deepEqual(parseRestartPolicy('no'), { name: 'no', maximumRetryCount: 0 });
  t.deepEqual(parseRestartPolicy(''), { name: 'no', maximumRetryCount: 0 });
  t.deepEqual(parseRestartPolicy('always'), { name: 'always', maximumRetryCount: 0 });
  t.deepEqual(parseRestartPolicy('unless-stopped'), { name: 'unless-stopped', maximumRetryCount: 0 });
  t.deepEqual(parseRestartPolicy('on-failure'), { name: 'on-failure', maximumRetryCount: 0 });
  t.deepEqual(parseRestartPolicy('on-failure:3'), { name: 'on-failure', maximumRetryCount: 3 });
  t.deepEqual(parseRestartPolicy('on-failure:+07'), { name: 'on-failure', maximumRetryCount: 7 });
  // An empty count, and a count of 0 with any policy, are no count at all.
  t.deepEqual(parseRestartPolicy('on-failure:'), { name: 'on-failure', maximumRetryCount: 0 });
  t.deepEqual(parseRestartPolicy('always:0'), { name: 'always', maximumRetryCount: 0 });
});

for (const [text, message] of [
  [':3', 'invalid restart policy format: no policy provided before colon'],
  ['on-failure:x', NOT_AN_INTEGER],
  ['on-failure:1.5', NOT_AN_INTEGER],
  ['on-failure:3:4', NOT_AN_INTEGER],
  ['on-failure: 3', NOT_AN_INTEGER],
  ['on-failure:9223372036854775808', NOT_AN_INTEGER],
  ['on-failure:-1', 'invalid restart policy: maximum retry count cannot be negative'],
  ['always:3', ONLY_ON_FAILURE],
  ['no:1', ONLY_ON_FAILURE],
  ['unless-stopped:-2', `${ONLY_ON_FAILURE} and cannot be negative`],
  ['sometimes', "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
  ['Always', "invalid restart policy: unknown policy 'Always'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
] as const) {
  test(`parseRestartPolicy refuses ${JSON.stringify(text)} with Docker's message`, (t) => {
    const error = t.throws(() => parseRestartPolicy(text), { instanceOf: NboxError, message });
    t.is(error?.code, 'ERR_NBOX_USAGE');
  });
}

test('validateRestartPolicy checks a policy given as data as the daemon does', (t) => {
  t.deepEqual(validateRestartPolicy({ name: 'on-failure', maximumRetryCount: 2 }), { name: 'on-failure', maximumRetryCount: 2 });
  t.deepEqual(validateRestartPolicy({ name: 'always' }), { name: 'always', maximumRetryCount: 0 });
  t.throws(() => validateRestartPolicy({ name: 'always', maximumRetryCount: 1 }), { message: ONLY_ON_FAILURE });
  t.throws(() => validateRestartPolicy({ name: 'on-failure', maximumRetryCount: 0.5 }), { message: NOT_AN_INTEGER });
});

test('--rm goes with no restart policy only', (t) => {
  t.notThrows(() => checkAutoRemove(parseRestartPolicy('no'), true));
  t.notThrows(() => checkAutoRemove(parseRestartPolicy('always'), false));
  for (const policy of ['always', 'unless-stopped', 'on-failure', 'on-failure:2']) {
    t.throws(() => checkAutoRemove(parseRestartPolicy(policy), true), { instanceOf: NboxError, message: 'conflicting options: cannot specify both --restart and --rm' });
  }
});

const ended = (overrides: Partial<RunEnd>): RunEnd => ({ exitCode: 0, restartCount: 0, manuallyStopped: false, restartCanceled: false, ...overrides });
const policy = (text: string): RestartPolicy => parseRestartPolicy(text);

test('shouldRestart: no never restarts; always whatever the exit code', (t) => {
  t.false(shouldRestart(policy('no'), ended({ exitCode: 1 })));
  t.true(shouldRestart(policy('always'), ended({ exitCode: 0 })));
  t.true(shouldRestart(policy('always'), ended({ exitCode: 137, restartCount: 1000 })));
});

test('shouldRestart: on-failure restarts a non-zero exit until the retry count is used up (0 is no limit)', (t) => {
  t.false(shouldRestart(policy('on-failure'), ended({ exitCode: 0 })));
  t.true(shouldRestart(policy('on-failure'), ended({ exitCode: 1, restartCount: 500 })));
  t.true(shouldRestart(policy('on-failure:3'), ended({ exitCode: 2, restartCount: 2 })));
  t.false(shouldRestart(policy('on-failure:3'), ended({ exitCode: 2, restartCount: 3 })));
  t.false(shouldRestart(policy('on-failure:3'), ended({ exitCode: 0, restartCount: 0 })));
});

test('shouldRestart: a user stop ends unless-stopped; a stop or kill that cancels ends every policy', (t) => {
  t.true(shouldRestart(policy('unless-stopped'), ended({ exitCode: 0 })));
  t.false(shouldRestart(policy('unless-stopped'), ended({ exitCode: 1, manuallyStopped: true })));
  // A kill with another signal than the stop signal: always and on-failure go on.
  t.true(shouldRestart(policy('always'), ended({ exitCode: 1, manuallyStopped: true })));
  t.true(shouldRestart(policy('on-failure'), ended({ exitCode: 1, manuallyStopped: true })));
  for (const name of ['always', 'unless-stopped', 'on-failure']) {
    t.false(shouldRestart(policy(name), ended({ exitCode: 137, manuallyStopped: true, restartCanceled: true })), name);
  }
});

test('killCancelsRestart: SIGKILL and the stop signal cancel, any signal does when no stop signal is set', (t) => {
  t.true(killCancelsRestart(9, 15));
  t.true(killCancelsRestart(15, 15));
  t.false(killCancelsRestart(1, 15));
  t.true(killCancelsRestart(10, undefined));
});

test('restartDelay: 100 ms doubling up to a minute, back to 100 ms after a run of 10 s', (t) => {
  const delays: number[] = [];
  let delay = 0;
  for (let i = 0; i < 12; i++) delays.push((delay = restartDelay(delay, 50)));
  t.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  t.is(restartDelay(60000, 9999), 60000);
  t.is(restartDelay(60000, 10000), 100);
  t.is(restartDelay(0, 20000), 100);
});
