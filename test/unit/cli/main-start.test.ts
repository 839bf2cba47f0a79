import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const MAIN = join(__dirname, '../../../src/cli/main.js');

test('the nbox command starts node without NODE_EXTRA_CA_CERTS: Node 20 would load it, and warn of a bad one, at start', async (t) => {
  // Started as the installed command is, through main.js's shebang.
  const { stdout, stderr } = await promisify(execFile)(MAIN, ['--version'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' } });
  t.regex(stdout, /^nbox version /);
  t.is(stderr, '', 'Node read no certificates file');
});

test('nbox ends as soon as its work is done (process.exit, not Node teardown of the whole heap), keeping its exit code', async (t) => {
  // --trace-exit reports an end by process.exit: Node's own end at an empty loop prints nothing.
  const env = { ...process.env, NODE_OPTIONS: '--trace-exit' };
  const done = await promisify(execFile)(MAIN, ['--version'], { env });
  t.regex(done.stderr, /Exited the environment with code 0/);
  const failed = await promisify(execFile)(MAIN, ['no-such-verb'], { env }).then(() => undefined, (err: { code: number; stderr: string }) => err);
  t.is(failed?.code, 125);
  t.regex(failed?.stderr ?? '', /^nbox: unknown command 'no-such-verb'\n[^]*Exited the environment with code 125/);
});
