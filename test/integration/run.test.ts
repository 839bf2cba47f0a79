// `nbox run` for real: namespaces, overlay, credentials and exit codes.
import type { ExecutionContext } from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { cli, exitCodeOf, rootTest, sharedTestStore, spawnCli, tarOf } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

async function run(t: ExecutionContext, args: string[], expectedCode = 0) {
  const result = await cli(store.root, ['run', '--rm', ...args]);
  t.is(result.code, expectedCode, `stderr: ${result.stderr}`);
  return result;
}

test('echo prints to stdout and exits 0', async (t) => {
  const r = await run(t, ['bb', 'echo', 'hello', 'world']);
  t.is(r.stdout, 'hello world\n');
  t.is(r.stderr, '');
});

test('stdin reaches the container only with -i', async (t) => {
  const withI = await cli(store.root, ['run', '--rm', '-i', 'bb', 'cat'], { input: 'piped\n' });
  t.is(withI.stdout, 'piped\n');
  const without = await cli(store.root, ['run', '--rm', 'bb', 'cat'], { input: 'piped\n' });
  t.is(without.code, 0);
  t.is(without.stdout, '');
});

test('stdout and stderr stay apart', async (t) => {
  const r = await run(t, ['bb', 'sh', '-c', 'echo out; echo err >&2']);
  t.is(r.stdout, 'out\n');
  t.is(r.stderr, 'err\n');
});

test('the container exit code is nbox exit code', async (t) => {
  await run(t, ['bb', 'sh', '-c', 'exit 7'], 7);
  await run(t, ['bb', 'true'], 0);
});

test('a missing executable exits 127 with one line', async (t) => {
  const r = await run(t, ['bb', 'no-such-command'], 127);
  t.is(r.stderr, 'nbox: exec: "no-such-command": executable file not found in $PATH\n');
});

test('a file that is not executable exits 126', async (t) => {
  const r = await run(t, ['bb', '/etc/passwd'], 126);
  t.is(r.stderr, 'nbox: exec: "/etc/passwd": permission denied\n');
});

test('a container killed by a signal exits 128+signal', async (t) => {
  const child = spawnCli(store.root, ['run', '--name', 'to-kill', 'bb', 'sleep', '100']);
  let pid = 0;
  while (!pid) {
    const ps = await cli(store.root, ['inspect', '--type', 'container', 'to-kill']);
    if (ps.code === 0) pid = JSON.parse(ps.stdout)[0].State.Pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  process.kill(pid, 'SIGKILL');
  const code = await exitCodeOf(child);
  t.is(code, 137);
  const inspect = JSON.parse((await cli(store.root, ['inspect', 'to-kill'])).stdout);
  t.is(inspect[0].State.Status, 'exited');
  t.is(inspect[0].State.ExitCode, 137);
  await cli(store.root, ['rm', 'to-kill']);
});

test('USER by name gets its uid, primary and supplementary groups and HOME', async (t) => {
  const r = await run(t, ['-u', 'app', 'bb', 'sh', '-c', 'id; echo $HOME']);
  // The kernel keeps supplementary groups sorted, so `id` lists them in numeric order.
  t.is(r.stdout, 'uid=1000(app) gid=1000(app) groups=29(audio),50(staff),1000(app)\n/home/app\n');
});

test('USER uid:gid is used as given: the named group only, HOME from passwd', async (t) => {
  const r = await run(t, ['-u', '1000:50', 'bb', 'sh', '-c', 'id -u; id -g; id -G; echo $HOME']);
  t.is(r.stdout, '1000\n50\n50\n/home/app\n');
});

test('an unknown uid runs with gid 0 and HOME /', async (t) => {
  const r = await run(t, ['-u', '4242', 'bb', 'sh', '-c', 'id -u; id -g; echo $HOME']);
  t.is(r.stdout, '4242\n0\n/\n');
});

test('root keeps only Docker default capabilities', async (t) => {
  const r = await run(t, ['bb', 'sh', '-c', 'grep CapEff /proc/self/status']);
  t.is(r.stdout, 'CapEff:\t00000000a80425fb\n');
  const app = await run(t, ['-u', 'app', 'bb', 'sh', '-c', 'grep CapEff /proc/self/status']);
  t.is(app.stdout, 'CapEff:\t0000000000000000\n');
});

test('an unknown user name fails with one line and exit 125', async (t) => {
  const r = await run(t, ['-u', 'nosuch', 'bb', 'true'], 125);
  t.is(r.stderr, 'nbox: unable to find user nosuch: no matching entries in passwd file\n');
});

test('WORKDIR is created when missing and is the cwd', async (t) => {
  const r = await run(t, ['-w', '/srv/app/data', 'bb', 'pwd']);
  t.is(r.stdout, '/srv/app/data\n');
});

test('the image WORKDIR, ENV and USER apply, and flags override them', async (t) => {
  const { makeRootfs } = await import('../helpers/env');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const scratch = await mkdtemp(join(tmpdir(), 'nbox-rootfs-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  const rootfs = await makeRootfs(scratch);
  await store.nbox.importImage(tarOf(rootfs, ['.']), {
    tags: ['bb-config:latest'],
    changes: ['WORKDIR /home/app', 'ENV GREETING=hi PATH=/bin:/usr/bin', 'USER app', 'CMD ["sh", "-c", "echo $GREETING $(pwd) $(id -un) $PATH"]'],
  });
  const image = await run(t, ['bb-config']);
  t.is(image.stdout, 'hi /home/app app /bin:/usr/bin\n');
  const overridden = await run(t, ['-e', 'GREETING=bye', '-w', '/tmp', '-u', 'root', 'bb-config']);
  t.is(overridden.stdout, 'bye /tmp root /bin:/usr/bin\n');
});

test('env: PATH and HOSTNAME defaults, -e, -e NAME from the host, --env-file', async (t) => {
  const envFile = join(store.root, '..', 'env.list');
  await writeFile(envFile, '# comment\nFROM_FILE=file\n\nSHARED=file\n');
  const r = await cli(store.root, ['run', '--rm', '--hostname', 'box', '-e', 'SHARED=flag', '-e', 'FROM_HOST', '--env-file', envFile, 'bb', 'env'], {
    env: { ...process.env, NBOX_ROOT: store.root, FROM_HOST: 'host-value' },
  });
  t.is(r.code, 0, r.stderr);
  const env = new Set(r.stdout.trim().split('\n'));
  for (const expected of ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=box', 'HOME=/root', 'FROM_FILE=file', 'SHARED=flag', 'FROM_HOST=host-value']) {
    t.true(env.has(expected), `missing ${expected} in ${r.stdout}`);
  }
});

test('PID 1 is the command, in its own PID namespace', async (t) => {
  const script = 'echo $$; cat /proc/1/cmdline; :';
  const r = await run(t, ['bb', 'sh', '-c', script]);
  t.is(r.stdout, `1\nsh\0-c\0${script}\0`);
});

test('hostname defaults to the short container ID; --hostname sets it', async (t) => {
  const r = await cli(store.root, ['run', '--name', 'host-check', 'bb', 'hostname']);
  t.is(r.code, 0, r.stderr);
  const inspect = JSON.parse((await cli(store.root, ['inspect', 'host-check'])).stdout);
  t.is(r.stdout, `${inspect[0].Id.slice(0, 12)}\n`);
  await cli(store.root, ['rm', 'host-check']);
  const named = await run(t, ['--hostname', 'web-1', 'bb', 'sh', '-c', 'hostname; cat /etc/hostname']);
  t.is(named.stdout, 'web-1\nweb-1\n');
});

test('the container sees none of the host mounts', async (t) => {
  const r = await run(t, ['bb', 'cat', '/proc/self/mounts']);
  const targets = r.stdout.trim().split('\n').map((line) => line.split(' ')[1]);
  const allowed = /^\/($|proc|dev|sys|etc\/(hosts|hostname|resolv\.conf)$)/;
  t.deepEqual(targets.filter((target) => !allowed.test(target)), []);
});

test('only fds 0-2 reach the container, even when nbox inherited more', async (t) => {
  const r = await cli(store.root, ['run', '--rm', 'bb', 'sh', '-c', 'ls /proc/$$/fd; :'], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim().split(/\s+/).join(' '), '0 1 2');
});

test('a file written in one container is in neither the image nor the next container', async (t) => {
  const first = await cli(store.root, ['run', '--name', 'writer', 'bb', 'sh', '-c', 'echo data > /etc/new-file && cat /etc/new-file']);
  t.is(first.stdout, 'data\n');
  const second = await run(t, ['bb', 'sh', '-c', 'test -e /etc/new-file && echo present || echo absent']);
  t.is(second.stdout, 'absent\n');
  const inspect = JSON.parse((await cli(store.root, ['inspect', 'writer'])).stdout);
  const upper = inspect[0].GraphDriver.Data.UpperDir as string;
  const { readFile } = await import('node:fs/promises');
  t.is(await readFile(join(upper, 'etc/new-file'), 'utf8'), 'data\n');
  for (const lower of (inspect[0].GraphDriver.Data.LowerDir as string).split(':')) {
    await t.throwsAsync(readFile(join(lower, 'etc/new-file')));
  }
  t.is((await cli(store.root, ['rm', 'writer'])).code, 0);
});

test('--entrypoint replaces the image entrypoint and drops its CMD', async (t) => {
  const r = await run(t, ['--entrypoint', 'echo', 'bb']);
  t.is(r.stdout, '\n');
  const withArgs = await run(t, ['--entrypoint', 'echo', 'bb', 'a', 'b']);
  t.is(withArgs.stdout, 'a b\n');
});

test('/dev has the standard nodes; /sys is read-only; /proc/keys is masked', async (t) => {
  const r = await run(t, ['bb', 'sh', '-c', 'ls /dev | tr "\\n" " "; echo; touch /sys/x 2>/dev/null || echo ro; wc -c < /proc/keys']);
  const [devs, ro, keys] = r.stdout.trim().split('\n');
  for (const node of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'fd', 'stdin', 'stdout', 'stderr', 'ptmx']) {
    t.true(devs.split(' ').includes(node), `no /dev/${node}`);
  }
  t.is(ro, 'ro');
  t.is(keys.trim(), '0');
});

test('--network none has only a loopback that is up; host shares the host network', async (t) => {
  const none = await run(t, ['--network', 'none', 'bb', 'sh', '-c', 'ls /sys/class/net; ip -o link show lo | grep -c UP']);
  t.is(none.stdout, 'lo\n1\n');
  const host = await run(t, ['--network', 'host', 'bb', 'ls', '/sys/class/net']);
  const { readFileSync } = await import('node:fs');
  // /proc/net/dev lists the links of this process's network namespace; /sys/class/net is
  // the one sysfs was mounted in, not ours when the suite runs in a namespace of its own.
  const ours = readFileSync('/proc/self/net/dev', 'utf8').split('\n').slice(2)
    .map((line) => line.split(':')[0].trim()).filter(Boolean);
  // Other tests add and remove bridges and veths (nb…) meanwhile: compare the links that stay.
  const lasting = (names: string[]) => names.filter((name) => !name.startsWith('nb')).sort();
  t.deepEqual(lasting(host.stdout.trim().split('\n')), lasting(ours));
});

test('a signal sent to nbox reaches the container', async (t) => {
  const child = spawnCli(store.root, ['run', '--rm', 'bb', 'sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while true; do sleep 0.05; done']);
  const closed = new Promise<number | null>((resolveClose) => child.on('close', resolveClose));
  let out = '';
  await new Promise<void>((resolveReady) => child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready')) resolveReady();
  }));
  child.kill('SIGTERM');
  t.is(await closed, 3);
  t.true(out.includes('got-term'));
});

test('a WORKDIR through /proc/self/fd reaches no host directory (CVE-2024-21626)', async (t) => {
  // A directory fd open in the nbox process (close-on-exec, so still open during setup).
  const { openSync, closeSync } = await import('node:fs');
  const hostDir = openSync('/etc', 'r');
  t.teardown(() => closeSync(hostDir));
  const { ContainerStartError } = await import('../../src/api');
  const err = await t.throwsAsync(store.nbox.run('bb', { cmd: ['pwd'], workdir: `/proc/self/fd/${hostDir}`, stdio: 'ignore', autoRemove: true }));
  t.true(err instanceof ContainerStartError, String(err));
});

test('the default syscall filter denies new namespaces and mounts; seccomp=unconfined lifts it', async (t) => {
  const confined = await run(t, ['bb', 'sh', '-c', 'grep Seccomp: /proc/self/status; unshare -U true 2>&1; echo "rc=$?"']);
  t.is(confined.stdout, 'Seccomp:\t2\nunshare: unshare(0x10000000): Operation not permitted\nrc=1\n');
  const unconfined = await run(t, ['--security-opt', 'seccomp=unconfined', 'bb', 'grep', 'Seccomp:', '/proc/self/status']);
  t.is(unconfined.stdout, 'Seccomp:\t0\n');
});

test('-v binds a host directory (read-write or :ro) and --tmpfs mounts a tmpfs', async (t) => {
  const { mkdtemp, readFile, rm, writeFile: write } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const host = await mkdtemp(join(tmpdir(), 'nbox-volume-'));
  t.teardown(() => rm(host, { recursive: true, force: true }));
  await write(join(host, 'in.txt'), 'from host\n');
  const r = await run(t, ['-v', `${host}:/data`, '-v', `${host}:/ro:ro`, '--tmpfs', '/scratch:size=1m', 'bb', 'sh', '-c',
    'cat /data/in.txt; echo from container > /data/out.txt; touch /ro/x 2>/dev/null || echo ro-refused; grep " /scratch " /proc/mounts | cut -d" " -f3']);
  t.is(r.stdout, 'from host\nro-refused\ntmpfs\n');
  t.is(await readFile(join(host, 'out.txt'), 'utf8'), 'from container\n');
  // A name is a volume (volumes.test.ts), which the run makes.
  const named = await cli(store.root, ['run', '--rm', '-v', 'myvolume:/data', 'bb', 'true']);
  t.is(named.code, 0, named.stderr);
  t.is((await cli(store.root, ['volume', 'rm', 'myvolume'])).stdout, 'myvolume\n');
});

test('the library refuses an unknown network as the CLI does, before a container is made', async (t) => {
  const before = (await store.nbox.listContainers({ all: true })).length;
  const err = await t.throwsAsync(store.nbox.run('bb', { cmd: ['true'], network: 'bridge0', stdio: 'ignore' }));
  t.is(err?.message, 'network bridge0 not found');
  t.is((await store.nbox.listContainers({ all: true })).length, before);
  const build = await t.throwsAsync(store.nbox.build({ context: '/nonexistent-context', network: 'bridge' }));
  t.is(build?.message, 'network mode "bridge" not supported by buildkit (use default, host or none)');
});

test('a container whose command never ran stays Created, with the exit code and error, as in Docker', async (t) => {
  const r = await cli(store.root, ['run', '--name', 'never-ran', 'bb', 'nosuch']);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'never-ran'])));
  t.is(r.code, 127);
  t.is((await cli(store.root, ['ps', '-a', '--filter', 'name=never-ran', '--format', '{{.Status}}'])).stdout, 'Created\n');
  const state = JSON.parse((await cli(store.root, ['inspect', '-f', '{{json .State}}', 'never-ran'])).stdout);
  t.like(state, { Status: 'created', Running: false, ExitCode: 127, Error: 'exec: "nosuch": executable file not found in $PATH' });
  t.is((await cli(store.root, ['wait', 'never-ran'])).stdout, '127\n');
});
