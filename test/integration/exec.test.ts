// `exec` into a running container, for real: the namespaces, cgroup,
// credentials and filter it joins, USER, -w, -e, exit codes and Docker's
// messages, and attacks from inside the container on the process that joins it.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import type { RunningContainer } from '../../src/api';
import { processStartTime } from '../../src/sys/proc';
import { cli, makeRootfs, rootTest, sharedTestStore, tarOf } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

// start runs a busybox container that sleeps (after an optional script), disposed of when the test ends.
async function start(t: ExecutionContext, script = '', options: { env?: string[]; image?: string } = {}): Promise<RunningContainer> {
  const container = await store.nbox.run(options.image ?? 'bb', { cmd: ['sh', '-c', `${script} exec sleep 300`], stdio: 'ignore', env: options.env });
  t.teardown(() => container[Symbol.asyncDispose]());
  return container;
}

// statusLines are the credential lines of a /proc/<pid>/status text.
function statusLines(text: string): string[] {
  return text.split('\n').filter((line) => /^(Cap(Prm|Eff|Bnd|Inh|Amb)|NoNewPrivs|Seccomp):/.test(line));
}

test('exec joins the container: its hostname, its PID namespace (init is PID 1), every namespace and the cgroup of its init', async (t) => {
  const container = await start(t);
  const hostname = await store.nbox.exec(container.id, ['hostname']);
  t.deepEqual(hostname, { exitCode: 0, stdout: `${container.id.slice(0, 12)}\n`, stderr: '' });
  const ps = await store.nbox.exec(container.id, ['ps', '-o', 'pid,args']);
  t.regex(ps.stdout!, /^\s*1 sleep 300$/m);
  t.regex(ps.stdout!, /^\s*\d+ ps -o pid,args$/m);

  const proc = await store.nbox.execStream(container.id, ['sleep', '300'], { stdio: 'ignore' });
  t.teardown(() => proc[Symbol.asyncDispose]());
  for (const ns of ['mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup']) {
    t.is(readlinkSync(`/proc/${proc.pid}/ns/${ns}`), readlinkSync(`/proc/${container.pid}/ns/${ns}`), ns);
  }
  t.not(readlinkSync(`/proc/${proc.pid}/ns/net`), readlinkSync('/proc/self/ns/net'));
  t.is(readFileSync(`/proc/${proc.pid}/cgroup`, 'utf8'), readFileSync(`/proc/${container.pid}/cgroup`, 'utf8'));
});

test('exec sees the files the init wrote and writes where the init sees them', async (t) => {
  const container = await start(t, 'echo from-init > /tmp/init.new; mv /tmp/init.new /tmp/init.txt;');
  let seen = await store.nbox.exec(container.id, ['cat', '/tmp/init.txt']);
  // The init writes before it sleeps: wait for its file, not for a time (renamed into place: `>` makes it empty first).
  while (seen.exitCode !== 0) seen = await store.nbox.exec(container.id, ['cat', '/tmp/init.txt']);
  t.is(seen.stdout, 'from-init\n');
  t.is((await store.nbox.exec(container.id, ['sh', '-c', 'echo from-exec > /tmp/exec.txt'])).exitCode, 0);
  t.is((await store.nbox.exec(container.id, ['cat', '/proc/1/root/tmp/exec.txt'])).stdout, 'from-exec\n');
});

test('exec runs with the init\'s capabilities, bounding set, seccomp filter and no_new_privs', async (t) => {
  const container = await start(t);
  const init = statusLines(readFileSync(`/proc/${container.pid}/status`, 'utf8'));
  const exec = await store.nbox.exec(container.id, ['cat', '/proc/self/status']);
  t.deepEqual(statusLines(exec.stdout!), init);
  t.true(init.includes('Seccomp:\t2'));
  t.true(init.includes('CapInh:\t0000000000000000'));
  const asApp = await store.nbox.exec(container.id, ['cat', '/proc/self/status'], { user: 'app' });
  t.true(statusLines(asApp.stdout!).includes('CapEff:\t0000000000000000'));
  t.true(statusLines(asApp.stdout!).includes('Seccomp:\t2'));
});

test('exec -u by name and by uid:gid, resolved in the container\'s /etc/passwd as it is now', async (t) => {
  const container = await start(t);
  t.is((await store.nbox.exec(container.id, ['id'], { user: 'app' })).stdout, 'uid=1000(app) gid=1000(app) groups=29(audio),50(staff),1000(app)\n');
  t.is((await store.nbox.exec(container.id, ['id'], { user: '1000:50' })).stdout, 'uid=1000(app) gid=50(staff) groups=50(staff)\n');
  t.is((await store.nbox.exec(container.id, ['sh', '-c', 'echo $HOME'], { user: 'app' })).stdout, '/home/app\n');
  // A user the container added after it started.
  await store.nbox.exec(container.id, ['sh', '-c', 'echo "late:x:2000:2000::/tmp:/bin/sh" >> /etc/passwd']);
  t.is((await store.nbox.exec(container.id, ['id', '-u'], { user: 'late' })).stdout, '2000\n');
  const missing = await cli(store.root, ['exec', '-u', 'nosuch', container.id, 'true']);
  t.is(missing.code, 1, missing.stderr);
  t.is(missing.stderr, 'nbox: unable to find user nosuch: no matching entries in passwd file\n');
});

test('exec -w, -e and --env-file over the container\'s environment', async (t) => {
  const container = await start(t, '', { env: ['FROM_RUN=1', 'SHARED=run'] });
  t.is((await store.nbox.exec(container.id, ['pwd'], { workdir: '/tmp' })).stdout, '/tmp\n');
  const dir = await mkdtemp(join(tmpdir(), 'nbox-exec-env-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'env'), '# a comment\nFROM_FILE=2\nSHARED=file\n');
  const env = await cli(store.root, ['exec', '-e', 'FROM_FLAG=3', '--env-file', join(dir, 'env'), container.id, 'env']);
  t.is(env.code, 0, env.stderr);
  const lines = env.stdout.split('\n');
  for (const line of ['FROM_RUN=1', 'FROM_FILE=2', 'FROM_FLAG=3', 'SHARED=file', `HOSTNAME=${container.id.slice(0, 12)}`]) t.true(lines.includes(line), line);
  const missing = await cli(store.root, ['exec', '-w', '/nope', container.id, 'pwd']);
  t.is(missing.code, 127);
  t.is(missing.stderr, 'nbox: OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nope") set in config.json failed: no such file or directory: unknown\n');
});

test('exec exit codes: the command\'s own, 126 and 127 worded as Docker words them', async (t) => {
  const container = await start(t);
  t.is((await cli(store.root, ['exec', container.id, 'true'])).code, 0);
  t.is((await cli(store.root, ['exec', container.id, 'sh', '-c', 'exit 7'])).code, 7);
  const notFound = await cli(store.root, ['exec', container.id, 'nope']);
  t.is(notFound.code, 127);
  t.is(notFound.stderr, 'nbox: OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown\n');
  const notExecutable = await cli(store.root, ['exec', container.id, '/etc/passwd']);
  t.is(notExecutable.code, 126);
  t.is(notExecutable.stderr, 'nbox: OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/passwd": permission denied: unknown\n');
  // -it from a pipe is Docker's refusal (exit 1); -t alone runs, its output one stream.
  const notTerminal = await cli(store.root, ['exec', '-it', container.id, 'true']);
  t.is(notTerminal.code, 1);
  t.is(notTerminal.stderr, 'nbox: cannot attach stdin to a TTY-enabled container because stdin is not a terminal\n');
  t.deepEqual(await cli(store.root, ['exec', '-t', container.id, 'sh', '-c', 'echo out; echo err >&2; exit 3']), { code: 3, signal: null, stdout: 'out\r\nerr\r\n', stderr: '' });
});

test('exec -i passes stdin; -d returns at once and the command runs on after nbox exits', async (t) => {
  const container = await start(t);
  const echoed = await cli(store.root, ['exec', '-i', container.id, 'cat'], { input: 'to the container\n' });
  t.is(echoed.stdout, 'to the container\n');
  const detached = await cli(store.root, ['exec', '-d', container.id, 'sh', '-c', 'sleep 0.5; echo done > /tmp/detached.new; mv /tmp/detached.new /tmp/detached']);
  t.is(detached.code, 0, detached.stderr);
  t.is(detached.stdout, '');
  let seen = await store.nbox.exec(container.id, ['cat', '/tmp/detached']);
  while (seen.exitCode !== 0) seen = await store.nbox.exec(container.id, ['cat', '/tmp/detached']);
  t.is(seen.stdout, 'done\n');
});

test('an exec\'d command dies with the container', async (t) => {
  const container = await start(t);
  const proc = await store.nbox.execStream(container.id, ['sleep', '300'], { stdio: 'ignore' });
  t.true(container.kill('SIGKILL'));
  t.deepEqual(await proc.exited, { exitCode: null, signal: 'SIGKILL' });
  await container.exited;
});

test('exec into an exited container or an unknown one: Docker\'s message, exit 1, nothing run', async (t) => {
  const container = await store.nbox.run('bb', { cmd: ['true'], stdio: 'ignore' });
  await container.exited;
  t.teardown(() => store.nbox.removeContainer(container.id).then(() => {}));
  const r = await cli(store.root, ['exec', container.id, 'true']);
  t.is(r.code, 1);
  t.is(r.stderr, `nbox: container ${container.id} is not running\n`);
  const unknown = await cli(store.root, ['exec', 'nosuch', 'true']);
  t.is(unknown.code, 1);
  t.is(unknown.stderr, 'nbox: No such container: nosuch\n');
});

for (const sameTick of [false, true]) {
  test(`exec refuses a container whose recorded init pid now names another process${sameTick ? ', even one started in the same clock tick' : ''}`, async (t) => {
    const container = await start(t);
    // A host process takes the place of the container's init in its record, as a reused pid would.
    const host = spawn('sleep', ['300'], { stdio: 'ignore' });
    t.teardown(() => void host.kill('SIGKILL'));
    const statePath = join(store.root, 'containers', container.id, 'state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { pid: number; pidStartTime: number };
    // Start times count 10 ms ticks: only the container's group tells such a process from its init.
    const pidStartTime = processStartTime(host.pid!) + (sameTick ? 0 : 1);
    await writeFile(statePath, JSON.stringify({ ...state, pid: host.pid, pidStartTime }));
    t.teardown(() => writeFile(statePath, JSON.stringify(state)));
    const r = await cli(store.root, ['exec', container.id, 'hostname']);
    t.is(r.code, 1);
    t.is(r.stderr, `nbox: container ${container.id} is not running\n`);
    t.is(r.stdout, '');
  });
}

// An image holding the host node's shared libraries, so that the host's node
// binary, were it ever reachable as /proc/self/exe, would run inside.
async function nodeLibsImage(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-exec-nodelibs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const rootfs = await makeRootfs(dir);
  const libs = execFileSync('ldd', [process.execPath], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
  for (const lib of libs) {
    await mkdir(join(rootfs, dirname(lib)), { recursive: true });
    await copyFile(lib, join(rootfs, lib));
  }
  await store.nbox.importImage(tarOf(rootfs), { tags: ['exec-nodelibs:latest'] });
  return 'exec-nodelibs';
}

test('a command the container links to /proc/self/exe never runs the host node binary that joins it (CVE-2019-5736)', async (t) => {
  const container = await start(t, 'ln -sf /proc/self/exe /bin/evil;', { image: await nodeLibsImage(t) });
  const nodeHash = createHash('sha256').update(readFileSync(process.execPath)).digest('hex');
  let linked = await store.nbox.exec(container.id, ['test', '-L', '/bin/evil']);
  while (linked.exitCode !== 0) linked = await store.nbox.exec(container.id, ['test', '-L', '/bin/evil']);
  const r = await store.nbox.exec(container.id, ['/bin/evil', '-e', 'console.log("host node ran")']);
  t.not(r.exitCode, 0);
  t.false(r.stdout!.includes('host node ran'), r.stdout);
  t.is(createHash('sha256').update(readFileSync(process.execPath)).digest('hex'), nodeHash);
});

test('exec -w through /proc/self/fd or a link to it never reaches a host directory nbox holds open (CVE-2024-21626)', async (t) => {
  const container = await start(t, 'ln -s /proc/self/fd /tmp/fds;');
  const hostDir = await mkdtemp(join(tmpdir(), 'nbox-exec-hostdir-'));
  t.teardown(() => rm(hostDir, { recursive: true, force: true }));
  await writeFile(join(hostDir, 'host-secret'), 'host\n');
  // This process holds the host directory open while it joins the container.
  const held = openSync(hostDir, 'r');
  t.teardown(() => closeSync(held));
  let linked = await store.nbox.exec(container.id, ['test', '-L', '/tmp/fds']);
  while (linked.exitCode !== 0) linked = await store.nbox.exec(container.id, ['test', '-L', '/tmp/fds']);
  for (const workdir of [`/proc/self/fd/${held}`, `/tmp/fds/${held}`]) {
    const r = await store.nbox.exec(container.id, ['cat', 'host-secret'], { workdir }).catch((err: Error & { exitCode: number }) => ({ exitCode: err.exitCode, stdout: err.message }));
    t.not(r.exitCode, 0, workdir);
    t.false(r.stdout!.includes('host'), r.stdout);
  }
});

test('a container that points /etc/passwd at a host path gets no user from the host\'s file', async (t) => {
  const hostDir = await mkdtemp(join(tmpdir(), 'nbox-exec-passwd-'));
  t.teardown(() => rm(hostDir, { recursive: true, force: true }));
  await writeFile(join(hostDir, 'passwd'), 'hostonly:x:4242:4242::/:/bin/sh\n');
  const container = await start(t, `ln -sf ${join(hostDir, 'passwd')} /etc/passwd;`);
  let linked = await store.nbox.exec(container.id, ['test', '-L', '/etc/passwd']);
  while (linked.exitCode !== 0) linked = await store.nbox.exec(container.id, ['test', '-L', '/etc/passwd']);
  await t.throwsAsync(store.nbox.exec(container.id, ['id'], { user: 'hostonly' }), { message: 'unable to find user hostonly: no matching entries in passwd file' });
});

test('exec keeps to how the container runs: the host\'s network with --network host, no filter with seccomp=unconfined', async (t) => {
  const container = await store.nbox.run('bb', { cmd: ['sleep', '300'], stdio: 'ignore', network: 'host', seccomp: false });
  t.teardown(() => container[Symbol.asyncDispose]());
  const proc = await store.nbox.execStream(container.id, ['sleep', '300'], { stdio: 'ignore' });
  t.teardown(() => proc[Symbol.asyncDispose]());
  t.is(readlinkSync(`/proc/${proc.pid}/ns/net`), readlinkSync('/proc/self/ns/net'));
  t.is(readlinkSync(`/proc/${proc.pid}/ns/pid`), readlinkSync(`/proc/${container.pid}/ns/pid`));
  const status = await store.nbox.exec(container.id, ['cat', '/proc/self/status']);
  t.true(statusLines(status.stdout!).includes('Seccomp:\t0'));
});
