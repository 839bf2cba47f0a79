// Attacks from inside a container on the host, each run for real: host
// devices, the host's node binary behind /proc/self/exe, the caller's
// terminal and files, a parent-death signal cleared to outlive nbox, a
// WORKDIR or mount aimed at /proc, and inheritable capabilities.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { cli, exitCodeOf, makeRootfs, rootTest, sharedTestStore, spawnCli, tarOf, writeContext } from '../helpers/env';
import { processStartTime } from '../../src/sys/proc';

const test = rootTest();
const store = sharedTestStore(test);
let work = '';
let attacks = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'nbox-escapes-'));
  attacks = join(work, 'attacks');
  execFileSync('gcc', ['-static', '-O1', '-o', attacks, resolve(__dirname, '../../../test/fixtures/attacks/attacks.c')]);
});
test.after.always(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function run(t: ExecutionContext, args: string[], expectedCode = 0) {
  const result = await cli(store.root, ['run', '--rm', ...args]);
  t.is(result.code, expectedCode, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

// Devices the allow-list leaves out: a block device the host has, /dev/kvm,
// /dev/fuse, /dev/kmsg, /dev/mem, the console. Each is opened (read-only, so
// a failing fix harms nothing) through a node the container makes itself.
function blockedDevices(): Array<{ type: 'b' | 'c'; major: number; minor: number }> {
  const [major, minor] = readdirSync('/sys/dev/block')[0].split(':').map(Number);
  return [
    { type: 'b', major, minor },
    { type: 'c', major: 10, minor: 232 },
    { type: 'c', major: 10, minor: 229 },
    { type: 'c', major: 1, minor: 11 },
    { type: 'c', major: 1, minor: 1 },
    { type: 'c', major: 5, minor: 1 },
  ];
}

// The attack only shows something where root outside a container can open
// the node: at least one such device, or the test proves nothing here.
function openableOnHost(): Array<{ type: 'b' | 'c'; major: number; minor: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-devices-'));
  try {
    return blockedDevices().filter((dev, i) => {
      const node = join(dir, String(i));
      execFileSync('mknod', [node, dev.type, String(dev.major), String(dev.minor)]);
      try {
        closeSync(openSync(node, constants.O_RDONLY | constants.O_NONBLOCK));
        return true;
      } catch {
        return false;
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function deviceAttack(devices: Array<{ type: string; major: number; minor: number }>): string {
  return [
    ...devices.map((dev, i) => `mknod /tmp/n${i} ${dev.type} ${dev.major} ${dev.minor} && (exec 3</tmp/n${i}) 2>&1 | grep -o "Operation not permitted"`),
    'echo ok > /dev/null && head -c 4 /dev/urandom | wc -c && echo zero | cat > /dev/zero && echo standard',
  ].join('; ');
}
function deviceAttackOutput(devices: unknown[]): string {
  return `${devices.map(() => 'Operation not permitted\n').join('')}4\nstandard\n`;
}

test('a container cannot open host devices (a block device, kvm, fuse, kmsg, mem, the console) through a node it makes', async (t) => {
  const devices = openableOnHost();
  t.true(devices.length > 0, 'no device opens on this host: the attack shows nothing');
  const r = await run(t, ['bb', 'sh', '-c', deviceAttack(devices)]);
  t.is(r.stdout, deviceAttackOutput(devices));
});

test('a RUN step cannot open host devices either', async (t) => {
  const devices = openableOnHost();
  const context = await writeContext(t, { Dockerfile: `FROM bb\nRUN (${deviceAttack(devices)}) > /devices.txt\n` });
  const built = await cli(store.root, ['build', '-q', '-t', 'devices', context]);
  t.is(built.code, 0, built.stderr);
  t.is((await run(t, ['devices', 'cat', '/devices.txt'])).stdout, deviceAttackOutput(devices));
});

test('the cgroup v2 device program denies what the allow-list leaves out', async (t) => {
  const unified = '/sys/fs/cgroup/unified';
  if (!existsSync(join(unified, 'cgroup.procs')) && !existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    t.pass('no cgroup v2 hierarchy here');
    return;
  }
  const root = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : unified;
  const group = join(root, `nbox-test-${process.pid}`);
  await mkdir(group);
  t.teardown(() => rm(group, { recursive: false, force: true }).catch(() => execFileSync('rmdir', [group])));
  const { addon } = await import('../../src/sys/addon');
  addon().attachDeviceFilter(group);
  const devices = openableOnHost();
  const nodes = devices.map((dev, i) => `mknod ${join(work, `v2-${i}`)} ${dev.type} ${dev.major} ${dev.minor} && (exec 3<${join(work, `v2-${i}`)}) 2>&1 | grep -o "Operation not permitted"`);
  const script = `echo $$ > ${group}/cgroup.procs; ${nodes.join('; ')}; head -c 4 /dev/urandom | wc -c`;
  const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  t.is(out, `${devices.map(() => 'Operation not permitted\n').join('')}4\n`);
});

// An image holding the host node's shared libraries, so that the host's node
// binary, were it ever reachable as /proc/self/exe, would run inside.
async function nodeLibsImage(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(work, 'nodelibs-'));
  const rootfs = await makeRootfs(dir);
  const libs = execFileSync('ldd', [process.execPath], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
  for (const lib of libs) {
    await mkdir(join(rootfs, dirname(lib)), { recursive: true });
    await copyFile(lib, join(rootfs, lib));
  }
  const imported = await store.nbox.importImage(tarOf(rootfs), { tags: ['nodelibs:latest'] });
  t.truthy(imported);
  return 'nodelibs';
}

test('ENTRYPOINT /proc/self/exe never runs the host node binary (CVE-2019-5736)', async (t) => {
  const image = await nodeLibsImage(t);
  const nodeHash = createHash('sha256').update(readFileSync(process.execPath)).digest('hex');
  const r = await cli(store.root, ['run', '--rm', '--entrypoint', '/proc/self/exe', image, '-e', 'console.log("host node ran")']);
  t.not(r.code, 0);
  t.false(r.stdout.includes('host node ran'), r.stdout);
  t.is(createHash('sha256').update(readFileSync(process.execPath)).digest('hex'), nodeHash);
});

test('a container gets no terminal of the caller: TIOCSTI cannot type into the user\'s shell', async (t) => {
  // `script` gives nbox a terminal, as a user's shell would.
  const command = `${process.execPath} -- ${resolve(__dirname, '../../src/cli/main.js')} run --rm -v ${attacks}:/attacks:ro bb /attacks tiocsti; sleep 0.2`;
  const out = execFileSync('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, NBOX_ROOT: store.root },
    encoding: 'utf8',
    input: '',
  });
  t.regex(out, /fd 0: Inappropriate ioctl for device/);
  t.regex(out, /fd 1: Inappropriate ioctl for device/);
  t.regex(out, /fd 2: Inappropriate ioctl for device/);
});

test('a container cannot chmod the file its output is redirected to', async (t) => {
  const file = join(work, 'output.txt');
  await writeFile(file, '');
  await chmod(file, 0o600);
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(file, 'w');
  t.teardown(() => closeSync(fd));
  const child = spawnCli(store.root, ['run', '--rm', 'bb', 'sh', '-c', 'chmod 4777 /proc/self/fd/1; echo done'], { stdio: ['ignore', fd, 'pipe'] });
  t.is(await exitCodeOf(child), 0);
  t.is((await stat(file)).mode & 0o7777, 0o600);
  t.is(await readFile(file, 'utf8'), 'done\n');
});

test('the container is a session leader of its own: no controlling terminal', async (t) => {
  const r = await run(t, ['bb', 'sh', '-c', 'cut -d" " -f6 /proc/1/stat']);
  t.is(r.stdout, '1\n');
});

test('inheritable and ambient capabilities are empty for every user, even when nbox has some (CVE-2022-24769)', async (t) => {
  const r = await run(t, ['bb', 'grep', 'CapInh', '/proc/self/status']);
  t.is(r.stdout, 'CapInh:\t0000000000000000\n');
  // nbox started with inheritable caps (systemd AmbientCapabilities=, setpriv, pam_cap).
  for (const user of ['0', '65534']) {
    const inherited = execFileSync('setpriv', ['--inh-caps', '+sys_admin,+sys_module', process.execPath, '--', resolve(__dirname, '../../src/cli/main.js'),
      'run', '--rm', '-u', user, 'bb', 'grep', '-E', 'Cap(Inh|Amb)', '/proc/self/status'], { env: { ...process.env, NBOX_ROOT: store.root }, encoding: 'utf8' });
    t.is(inherited, 'CapInh:\t0000000000000000\nCapAmb:\t0000000000000000\n', `user ${user}`);
  }
});

test('a named FIFO as stdout is copied, never handed over: the container cannot chmod it', async (t) => {
  const fifo = join(work, 'fifo');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  let read = '';
  reader.stdout!.on('data', (d: Buffer) => (read += d.toString()));
  const fd = openSync(fifo, 'w'); // returns once cat has it open
  const child = spawnCli(store.root, ['run', '--rm', 'bb', 'sh', '-c', 'chmod 4777 /proc/self/fd/1; echo through'], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  t.is(await exitCodeOf(child), 0);
  await exitCodeOf(reader);
  t.is(read, 'through\n');
  t.is((await stat(fifo)).mode & 0o7777, 0o600);
});

test('a mount reaching /proc through a link in the live root (/dev/fd) is refused', async (t) => {
  const r = await run(t, ['--tmpfs', '/dev/fd', 'bb', 'true'], 125);
  t.is(r.stderr, "nbox: invalid mount path: '/dev/fd' cannot be mounted because it is inside /proc\n");
});

// A container that clears its parent-death signal outlives a killed nbox
// until the next store open kills it through its cgroup.
// Its start time is read while nbox lives, before any sweep can end it.
async function startOrphan(t: ExecutionContext, args: string[]): Promise<{ pid: number; startTime: number }> {
  const child = spawnCli(store.root, ['run', ...args, '-v', `${attacks}:/attacks:ro`, 'bb', '/attacks', 'nopdeath', '300']);
  await new Promise<void>((ready) => child.stdout!.once('data', () => ready()));
  const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
  t.true(pid > 0);
  const startTime = processStartTime(pid);
  child.kill('SIGKILL');
  await exitCodeOf(child);
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Ended, as it should be.
    }
  });
  return { pid, startTime };
}

async function waitGone(pid: number, startTime: number): Promise<boolean> {
  // Killed through its cgroup, it may take a while to go on a loaded machine (a CI run's two test files at once).
  for (let i = 0; i < 1000; i++) {
    if (processStartTime(pid) !== startTime) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

test('a container that clears its parent-death signal dies at the next store open, and shows Exited (137)', async (t) => {
  const { pid, startTime } = await startOrphan(t, ['--name', 'orphan']);
  // Its "ready" line says it cleared the parent-death signal. Whether it
  // outlives nbox is not checked here: any nbox on this machine (a parallel
  // test file's) may sweep its cgroup first, and must.
  const ps = await cli(store.root, ['ps', '-a']);
  t.true(await waitGone(pid, startTime));
  const line = ps.stdout.split('\n').find((l) => l.endsWith(' orphan')) ?? '';
  t.regex(line, /Exited \(137\) (Less than a second|\d+ seconds?) ago/);
  t.notRegex(ps.stdout, /years ago/);
  await cli(store.root, ['rm', 'orphan']);
});

test('a --rm container whose nbox was killed is removed at the next store open', async (t) => {
  const { pid, startTime } = await startOrphan(t, ['--rm', '--name', 'orphan-rm']);
  const ps = await cli(store.root, ['ps', '-a']);
  t.false(ps.stdout.includes('orphan-rm'), ps.stdout);
  t.true(await waitGone(pid, startTime));
});

test('exec, whose open skips the sweep, still sweeps the orphan it names first: a --rm one is gone, another is not running', async (t) => {
  const { pid, startTime } = await startOrphan(t, ['--rm', '--name', 'orphan-exec-rm']);
  const r = await cli(store.root, ['exec', 'orphan-exec-rm', 'true']);
  t.is(r.code, 1);
  t.is(r.stderr, 'nbox: No such container: orphan-exec-rm\n');
  t.true(await waitGone(pid, startTime));
  const kept = await startOrphan(t, ['--name', 'orphan-exec']);
  const k = await cli(store.root, ['exec', 'orphan-exec', 'true']);
  t.is(k.code, 1);
  t.regex(k.stderr, /^nbox: container [0-9a-f]{64} is not running\n$/);
  t.true(await waitGone(kept.pid, kept.startTime));
  await cli(store.root, ['rm', 'orphan-exec']);
});

test('a RUN step that clears its parent-death signal dies at the next store open', async (t) => {
  const context = await writeContext(t, { Dockerfile: 'FROM bb\nRUN --mount=type=bind,source=attacks,target=/attacks ["/attacks", "nopdeath", "299"]\n' });
  await copyFile(attacks, join(context, 'attacks'));
  const child = spawnCli(store.root, ['build', context]);
  let pid = 0;
  for (let i = 0; i < 500 && !pid; i++) {
    await new Promise((r) => setTimeout(r, 20));
    pid = findProcess(['/attacks', 'nopdeath', '299']); // 299: no other test's /attacks runs that
  }
  t.true(pid > 0);
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Ended.
    }
  });
  const startTime = processStartTime(pid);
  child.kill('SIGKILL');
  await exitCodeOf(child);
  await cli(store.root, ['images', '-q']);
  t.true(await waitGone(pid, startTime));
});

// findProcess is the pid of the process whose command line is argv: a whole one, as another test file's
// container may run /attacks at the same time.
function findProcess(argv: string[]): number {
  const wanted = `${argv.join('\0')}\0`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === wanted) return Number(entry);
    } catch {
      // Gone.
    }
  }
  return 0;
}

test('a store open from another PID namespace leaves a live container alone', async (t) => {
  const inner = spawn('unshare', ['-pf', '--mount-proc', process.execPath, '--', resolve(__dirname, '../../src/cli/main.js'),
    'run', '--rm', 'bb', 'sh', '-c', 'echo started; sleep 2; echo survived'], { env: { ...process.env, NBOX_ROOT: store.root }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  inner.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  while (!out.includes('started')) await new Promise((r) => setTimeout(r, 20));
  const other = await mkdtemp(join(work, 'other-store-'));
  await cli(join(other, 'store'), ['images']);
  await cli(store.root, ['ps', '-a']);
  t.is(await exitCodeOf(inner), 0);
  t.is(out, 'started\nsurvived\n');
});

test('a WORKDIR through /proc/self/fd/0 with a host directory on stdin is refused', async (t) => {
  const hostDir = await mkdtemp(join(work, 'stdin-dir-'));
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(hostDir, 'r');
  t.teardown(() => closeSync(fd));
  const child = spawnCli(store.root, ['run', '--rm', '-i', '-w', '/proc/self/fd/0', 'bb', 'sh', '-c', 'touch escaped'], { stdio: [fd, 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  t.is(await exitCodeOf(child), 125);
  t.regex(stderr, /workdir/);
  t.deepEqual(await readdir(hostDir), []);
});

test('a mount over /proc and a relative --tmpfs are refused', async (t) => {
  const host = await mkdtemp(join(work, 'procbind-'));
  const proc = await run(t, ['-v', `${host}:/proc`, 'bb', 'true'], 125);
  t.is(proc.stderr, "nbox: invalid mount path: '/proc' cannot be mounted because it is inside /proc\n");
  const sub = await run(t, ['-v', `${host}:/proc/sys/kernel`, 'bb', 'true'], 125);
  t.regex(sub.stderr, /inside \/proc/);
  const relative = await run(t, ['--tmpfs', 'scratch', 'bb', 'true'], 125);
  t.is(relative.stderr, "nbox: invalid mount path: 'scratch' mount path must be absolute\n");
});

test('an image whose /etc/resolv.conf is a dangling symlink runs, with the file at the link target', async (t) => {
  const dir = await mkdtemp(join(work, 'resolved-'));
  const rootfs = await makeRootfs(dir);
  await symlink('../run/systemd/resolve/stub-resolv.conf', join(rootfs, 'etc/resolv.conf'));
  await store.nbox.importImage(tarOf(rootfs), { tags: ['resolved:latest'] });
  const r = await run(t, ['resolved', 'sh', '-c', 'readlink /etc/resolv.conf; test -f /etc/resolv.conf && echo present']);
  t.is(r.stdout, '../run/systemd/resolve/stub-resolv.conf\npresent\n');
  // A RUN on it leaves no stub of that file (or its directories) in its layer.
  const context = await writeContext(t, { Dockerfile: 'FROM resolved\nRUN echo built > /built\n' });
  const built = await cli(store.root, ['build', '-q', '-t', 'resolved-run', context]);
  t.is(built.code, 0, built.stderr);
  const inspect = JSON.parse((await cli(store.root, ['inspect', 'resolved-run'])).stdout)[0];
  const top = (inspect.RootFS.Layers as string[]).at(-1)!.replace('sha256:', '');
  t.deepEqual((await readdir(join(store.root, 'layers', top, 'diff'))).sort(), ['built']);
});

test('cgroups of ended containers are removed', async (t) => {
  const container = await store.nbox.run('bb', { cmd: ['true'], stdio: 'ignore', autoRemove: true });
  await container.exited;
  const own = readFileSync('/proc/self/cgroup', 'utf8').match(/:devices:(.*)/)?.[1] ?? '/';
  const parent = join('/sys/fs/cgroup/devices', own, 'nbox');
  const mine = existsSync(parent) ? (await readdir(parent)).filter((name) => new RegExp(`^\\d+-${process.pid}-`).test(name)) : [];
  t.deepEqual(mine, []);
});
