// `attach` to a -d container through its monitor's control socket, driven
// through a real pty (util-linux `script`) as a user's terminal drives it.
import type { ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { CLI, cli, rootTest, sharedTestStore } from '../helpers/env';
import { NBOX, inTerminal as inTerminalAt, type Session } from '../helpers/terminal';
import { runDetached, runningState } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

function inTerminal(t: ExecutionContext, command: string): Session {
  return inTerminalAt(t, store.root, command);
}

test('run -dit, attach: typed input runs, the detach keys leave it Up, a second attach gets the resize and the exit code', async (t) => {
  const id = await runDetached(t, store.root, ['-it', '--name', 'att', 'bb', 'sh']);
  await runningState(store.root, id);
  const first = inTerminal(t, `stty -g; ${NBOX} attach att; echo rc=$?; stty -g`);
  // No prompt is repeated on attach: the typed command's output shows it is joined.
  first.type('echo hi-$((1+2))\n');
  await first.waitFor(/hi-3/);
  first.type('\x10\x11');
  const detached = await first.ended;
  t.regex(detached.output, /read escape sequence\r?\nrc=0/);
  const modes = detached.output.split(/\r?\n/).filter((line) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(line));
  t.is(modes.length, 2);
  t.is(modes[0], modes[1]);
  t.regex((await cli(store.root, ['ps', '--filter', 'name=att'])).stdout, /Up /);

  const second = inTerminal(t, `stty rows 33 cols 111; ${NBOX} attach att; echo rc=$?`);
  second.type('stty size\n');
  await second.waitFor(/33 111/);
  second.type('exit 7\n');
  const ended = await second.ended;
  t.regex(ended.output, /rc=7/);
  t.regex((await cli(store.root, ['ps', '-a', '--filter', 'name=att'])).stdout, /Exited \(7\)/);
});

test('attach to a stopped container: Docker\'s message, exit 1', async (t) => {
  const id = await runDetached(t, store.root, ['bb', 'true']);
  await cli(store.root, ['wait', id]);
  const r = await cli(store.root, ['attach', id]);
  t.deepEqual([r.code, r.stderr], [1, 'nbox: You cannot attach to a stopped container, start it first\n']);
});

test('attach to a non-tty -d container: stdout and stderr kept apart, the exit code', async (t) => {
  const id = await runDetached(t, store.root, ['-i', 'bb', 'sh', '-c', 'read line; echo out-$line; echo err-$line >&2; exit 3']);
  await runningState(store.root, id);
  const child = spawn(process.execPath, ['--', CLI, 'attach', id], { env: { ...process.env, NBOX_ROOT: store.root }, stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.write('x\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.deepEqual([code, stdout, stderr], [3, 'out-x\n', 'err-x\n']);
});

test('the control socket: root\'s alone, in the root-only container dir; a non-root peer that gets past the file modes is refused', async (t) => {
  const id = await runDetached(t, store.root, ['-t', 'bb', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
  await runningState(store.root, id);
  const sock = join(store.root, 'containers', id, 'monitor.sock');
  t.true(statSync(sock).isSocket());
  t.is(statSync(sock).mode & 0o077, 0);
  // A client that sends ATTACH for stdout and says how many bytes it got before the monitor closed the connection.
  // The store's path is longer than sun_path: the client names the socket through the dir's fd, its fd 3.
  const client = `const s=require('net').connect('/proc/self/fd/3/monitor.sock');let n=0;` +
    `s.on('connect',()=>{const b=Buffer.alloc(12);b.writeUInt32LE(16,0);b.writeUInt32LE(4,4);b.writeUInt32LE(2,8);s.write(b)});` +
    `s.on('data',(d)=>{n+=d.length;if(n>0){console.log('data');process.exit(0)}});` +
    `s.on('error',(e)=>{console.log(e.code==='EPIPE'||e.code==='ECONNRESET'?'closed':e.code);process.exit(0)});` +
    `s.on('close',()=>{console.log('closed');process.exit(0)});`;
  const dir = openSync(join(store.root, 'containers', id), 'r');
  t.teardown(() => closeSync(dir));
  const asUser = (extra: string[]) =>
    spawnSync('setpriv', [...extra, '--', process.execPath, '-e', client], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit', dir] }).stdout.trim();
  t.is(asUser([]), 'data');
  t.is(asUser(['--reuid', '65534', '--regid', '65534', '--clear-groups']), 'EACCES');
  // With CAP_DAC_OVERRIDE the file modes let it through: the monitor's SO_PEERCRED check still closes on it.
  t.is(asUser(['--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps', '+dac_override', '--ambient-caps', '+dac_override']), 'closed');
});
