// `run -t`/`-it` and `exec -t`/`-it`, driven through a real pty (util-linux
// `script`) as a user's terminal drives them: the container's terminal is a
// pty of its own devpts, input reaches it, its size follows the caller's, and
// the caller's terminal mode is restored however the session ends.
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { RunningContainer } from '../../src/api';
import { cli, rootTest, sharedTestStore } from '../helpers/env';
import { NBOX, inTerminal as inTerminalAt, type Session } from '../helpers/terminal';
import { endAtTeardown, until } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

function inTerminal(t: ExecutionContext, command: string): Session {
  return inTerminalAt(t, store.root, command);
}

// The lines a session printed, its terminal's \r taken off.
function lines(output: string): string[] {
  return output.replace(/\r/g, '').split('\n');
}

test('run -t: the container\'s 0-2 and /dev/console are /dev/pts/0 of its own devpts, one output stream, TERM=xterm, from a pipe too', async (t) => {
  const script = 'tty; test -t 0 && test -t 1 && test -t 2 && echo all-terminals; stat -c %t:%T /dev/console; echo err >&2; echo TERM=$TERM; exit 3';
  const result = await cli(store.root, ['run', '--rm', '-t', 'bb', 'sh', '-c', script]);
  t.is(result.code, 3);
  t.is(result.stdout, '/dev/pts/0\r\nall-terminals\r\n88:0\r\nerr\r\nTERM=xterm\r\n');
  t.is(result.stderr, '');
});

test('run -t: the pty starts at the caller\'s terminal size and follows it (SIGWINCH)', async (t) => {
  const session = inTerminal(t, `stty rows 33 cols 111; ${NBOX} run --rm -t bb stty size`);
  const { code, output } = await session.ended;
  t.is(code, 0);
  t.true(lines(output).includes('33 111'), output);

  const dir = await mkdtemp(join(tmpdir(), 'nbox-tty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // The outer pty is resized from outside, as a terminal window is: the kernel signals nbox, the foreground.
  // stty sets rows and cols one after the other: the container may see a size between the two first.
  const resized = inTerminal(t, `tty > ${dir}/tty; stty rows 10 cols 20; ${NBOX} run --rm -t bb sh -c 'trap "[ \\"\\$(stty size)\\" = \\"44 99\\" ] && stty size && exit 0" WINCH; echo ready; while :; do sleep 300 & wait; done'`);
  await resized.waitFor(/ready/);
  const outer = readFileSync(join(dir, 'tty'), 'utf8').trim();
  await new Promise<void>((resolve) => spawn('stty', ['-F', outer, 'rows', '44', 'cols', '99']).on('close', () => resolve()));
  const end = await resized.ended;
  t.is(end.code, 0);
  t.true(lines(end.output).includes('44 99'), end.output);
});

test('run -it: what is typed reaches the container\'s shell, its exit code is nbox\'s, the caller\'s terminal mode is restored', async (t) => {
  const session = inTerminal(t, `stty -g; ${NBOX} run --rm -it bb sh; echo rc=$?; stty -g`);
  await session.waitFor(/# /);
  session.type('echo hi; exit 7\n');
  const { code, output } = await session.ended;
  t.is(code, 0);
  const printed = lines(output);
  t.true(printed.includes('hi'), output);
  t.true(printed.includes('rc=7'), output);
  const modes = printed.filter((line) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(line));
  t.is(modes.length, 2, output);
  t.is(modes[0], modes[1]);
});

test('run -it: the terminal mode is restored when the container is killed, when nbox gets SIGTERM, and after a failed start', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-tty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const killed = inTerminal(t, `stty -g; ${NBOX} run --rm --name tty-killed -it bb sh -c 'echo ready; sleep 300'; echo rc=$?; stty -g`);
  await killed.waitFor(/ready/);
  t.is((await cli(store.root, ['kill', 'tty-killed'])).code, 0);
  const afterKill = await killed.ended;
  const killModes = lines(afterKill.output).filter((line) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(line));
  t.true(lines(afterKill.output).includes('rc=137'), afterKill.output);
  t.is(killModes.length, 2);
  t.is(killModes[0], killModes[1]);

  // SIGTERM to nbox goes to the container (sig-proxy); it ends, and so does the session.
  const termed = inTerminal(t, `stty -g; ${NBOX} run --rm -it bb sh -c 'trap "exit 5" TERM; echo ready; sleep 300 & wait' </dev/tty & echo $! > ${dir}/pid; wait $!; echo rc=$?; stty -g`);
  await termed.waitFor(/ready/);
  process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), 'SIGTERM');
  const afterTerm = await termed.ended;
  const termModes = lines(afterTerm.output).filter((line) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(line));
  t.true(lines(afterTerm.output).includes('rc=5'), afterTerm.output);
  t.is(termModes[0], termModes[1]);

  const failed = inTerminal(t, `stty -g; ${NBOX} run --rm -it bb nosuch; echo rc=$?; stty -g`);
  const afterFail = await failed.ended;
  const failModes = lines(afterFail.output).filter((line) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(line));
  t.true(lines(afterFail.output).includes('rc=127'), afterFail.output);
  t.is(failModes[0], failModes[1]);
});

test('run -it from a pipe is Docker\'s refusal and --detach-keys is checked, before anything is created', async (t) => {
  const before = (await cli(store.root, ['ps', '-aq'])).stdout;
  t.deepEqual(await cli(store.root, ['run', '--rm', '-it', 'bb', 'true']), {
    code: 1, signal: null, stdout: '', stderr: 'nbox: cannot attach stdin to a TTY-enabled container because stdin is not a terminal\n',
  });
  t.deepEqual(await cli(store.root, ['run', '--detach-keys', 'ctrl-p,shift-a', '-t', 'bb', 'true']), {
    code: 1, signal: null, stdout: '', stderr: 'nbox: invalid detach keys (ctrl-p,shift-a): Unknown character: \'shift-a\'\n',
  });
  t.is((await cli(store.root, ['ps', '-aq'])).stdout, before);
});

test('run -it: the detach keys end the session with Docker\'s message and 0, the terminal restored; the container runs on, Up, and attach joins it again', async (t) => {
  const session = inTerminal(t, `stty -g; ${NBOX} run --rm -it --name tty-detached --detach-keys ctrl-x,x bb sh; echo rc=$?; stty -g`);
  await session.waitFor(/# /);
  const id = (await cli(store.root, ['ps', '-q', '--no-trunc', '--filter', 'name=tty-detached'])).stdout.trim();
  endAtTeardown(t, store.root, id);
  session.type('echo one\n');
  await session.waitFor(/\none\r*\n[^]*# /);
  session.type('\x18x');
  const { output } = await session.ended;
  const printed = lines(output);
  t.true(printed.some((line) => line.endsWith('read escape sequence')), output);
  t.true(printed.includes('rc=0'), output);
  const modes = printed.filter((line) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(line));
  t.is(modes[0], modes[1]);
  t.regex((await cli(store.root, ['ps', '--filter', 'name=tty-detached'])).stdout, /Up /);
  const again = inTerminal(t, `${NBOX} attach tty-detached; echo rc=$?`);
  again.type('echo two-$((1+1)); exit 8\n');
  t.regex((await again.ended).output, /two-2[^]*rc=8/);
  // --rm: the monitor removed it at its end.
  t.is((await cli(store.root, ['ps', '-aq', '--filter', 'name=tty-detached'])).stdout, '');
});

test('run --restart in the foreground: the policy applies, run ends with the first exit code, --rm is refused', async (t) => {
  const run = await cli(store.root, ['run', '--name', 'fg-restart', '--restart', 'on-failure:2', 'bb', 'sh', '-c', 'echo life; exit 4']);
  const id = (await cli(store.root, ['ps', '-aq', '--no-trunc', '--filter', 'name=fg-restart'])).stdout.trim();
  endAtTeardown(t, store.root, id);
  t.deepEqual([run.code, run.stdout], [4, 'life\n']);
  // Two restarts after the first life, then the end on record.
  const logs = await until('three lives', async () => {
    const r = await cli(store.root, ['logs', 'fg-restart']);
    return r.stdout === 'life\nlife\nlife\n' && /Exited \(4\)/.test((await cli(store.root, ['ps', '-a', '--filter', 'name=fg-restart'])).stdout) ? r.stdout : undefined;
  });
  t.is(logs, 'life\nlife\nlife\n');
  const refused = await cli(store.root, ['run', '--rm', '--restart', 'always', 'bb', 'true']);
  t.deepEqual([refused.code, refused.stderr], [125, 'nbox: conflicting options: cannot specify both --restart and --rm\n']);
});

// start runs a busybox container that sleeps, disposed of when the test ends.
async function start(t: ExecutionContext, options: { tty?: boolean; user?: string } = {}): Promise<RunningContainer> {
  const container = await store.nbox.run('bb', { cmd: ['sleep', '300'], stdio: 'pipe', ...options });
  t.teardown(() => container[Symbol.asyncDispose]());
  return container;
}

test('exec -it into a running container: typed input, the exit code, the pty in the container\'s devpts owned by the user and tty group', async (t) => {
  const container = await start(t);
  const session = inTerminal(t, `stty rows 21 cols 71; ${NBOX} exec -it -u app ${container.id} sh; echo rc=$?`);
  await session.waitFor(/\$ /);
  session.type('tty; stat -c %u:%g $(tty); stty size; ls /dev/pts; exit 4\n');
  const { output } = await session.ended;
  const printed = lines(output);
  t.true(printed.includes('/dev/pts/0'), output);
  t.true(printed.includes('1000:5'), output);
  t.true(printed.includes('21 71'), output);
  t.true(printed.includes('rc=4'), output);
});

test('exec -it: SIGHUP or SIGTERM to nbox, which exec does not forward, ends it with the caller\'s terminal restored', async (t) => {
  const container = await start(t);
  const dir = await mkdtemp(join(tmpdir(), 'nbox-tty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
    const session = inTerminal(t, `stty -g; ${NBOX} exec -it ${container.id} sh -c 'echo ready; sleep 300' </dev/tty & echo $! > ${dir}/pid; wait $!; echo rc=$?; stty -g`);
    await session.waitFor(/ready/);
    process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), signal);
    const { output } = await session.ended;
    const modes = lines(output).filter((line) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(line));
    t.is(modes.length, 2, output);
    t.is(modes[0], modes[1], signal);
  }
});

test('run -t through the library: the output stream, the slave owned by USER and gid 5, resize()', async (t) => {
  const container = await store.nbox.run('bb', {
    cmd: ['sh', '-c', 'stat -c %u:%g $(tty); stty size; trap "stty size; exit 0" WINCH; echo ready; sleep 300 & wait'],
    user: 'app', tty: true, ttySize: { rows: 12, cols: 34 }, stdio: 'pipe',
  });
  t.teardown(() => container[Symbol.asyncDispose]());
  let output = '';
  for await (const chunk of container.stdout!) {
    output += (chunk as Buffer).toString();
    if (output.endsWith('ready\r\n')) container.resize({ rows: 5, cols: 6 });
  }
  t.is(output, '1000:5\r\n12 34\r\nready\r\n5 6\r\n');
  t.is((await container.exited).exitCode, 0);
});

test('attack: the container\'s terminal is no pty of the host: its fd 0 is in the container\'s own devpts, which shows none of the host\'s ptys', async (t) => {
  // A pty of the host exists while this runs: the session's own.
  const session = inTerminal(t, `${NBOX} run --rm --name tty-attack -t bb sh -c 'ls /dev/pts; echo ready; sleep 300'`);
  await session.waitFor(/ready/);
  // The container may print before nbox has recorded its pid.
  let pid = 0;
  for (let tries = 0; pid === 0 && tries < 200; tries++) {
    pid = (await store.nbox.containerRecord('tty-attack')).state.pid;
    if (pid === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.is(readlinkSync(`/proc/${pid}/fd/0`), '/dev/pts/0');
  // The slave is no node of the host's devpts (another instance: another st_dev), and the container lists only its own.
  t.not(statSync(`/proc/${pid}/fd/0`).dev, statSync('/dev/pts/ptmx').dev);
  t.is(statSync(`/proc/${pid}/fd/0`).dev, statSync(`/proc/${pid}/root/dev/pts/ptmx`).dev);
  const listed = lines(await session.waitFor(/ready/)).filter((line) => line !== '' && line !== 'ready' && !line.includes('nbox'));
  t.deepEqual(listed.join(' ').split(/\s+/).filter(Boolean).sort(), ['0', 'ptmx']);
  await cli(store.root, ['kill', 'tty-attack']);
  await session.ended;
});
