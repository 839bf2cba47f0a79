// `run`'s security options for real: capabilities, --privileged, --read-only,
// no-new-privileges, Docker's default seccomp profile and a user's, --device, --sysctl, --group-add, what
// exec gets of them, inspect's HostConfig, and bad values refused with nothing created.
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cli, rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

async function run(t: ExecutionContext, args: string[], expectedCode = 0) {
  const result = await cli(store.root, ['run', '--rm', ...args]);
  t.is(result.code, expectedCode, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

function statusField(text: string, field: string): string {
  return new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
}

test('default caps are Docker\'s 14; --cap-drop ALL --cap-add net_admin leaves only CAP_NET_ADMIN', async (t) => {
  const plain = await run(t, ['bb', 'cat', '/proc/self/status']);
  t.is(statusField(plain.stdout, 'CapEff'), '00000000a80425fb');
  const dropped = await run(t, ['--cap-drop', 'ALL', '--cap-add', 'net_admin', 'bb', 'cat', '/proc/self/status']);
  t.is(statusField(dropped.stdout, 'CapEff'), '0000000000001000');
  t.is(statusField(dropped.stdout, 'CapBnd'), '0000000000001000');
  // Without CAP_CHOWN, chown fails even for root.
  await run(t, ['--cap-drop', 'chown', 'bb', 'chown', '1:1', '/tmp'], 1);
});

test('a non-root user keeps only the bounding set, with the added cap in it', async (t) => {
  const result = await run(t, ['-u', '1000', '--cap-add', 'SYS_ADMIN', 'bb', 'cat', '/proc/self/status']);
  t.is(statusField(result.stdout, 'CapEff'), '0000000000000000');
  t.is(statusField(result.stdout, 'CapBnd'), '00000000a82425fb');
});

test('--privileged: every cap nbox holds, no filter, /sys read-write, no masked paths, host devices', async (t) => {
  const own = statusField(readFileSync('/proc/self/status', 'utf8'), 'CapBnd');
  const result = await run(t, ['--privileged', 'bb', 'sh', '-c', 'cat /proc/self/status; grep " /sys " /proc/mounts; grep -c kcore /proc/mounts; ls /dev']);
  t.is(statusField(result.stdout, 'CapEff'), own);
  t.is(statusField(result.stdout, 'Seccomp'), '0');
  t.regex(result.stdout, /sysfs \/sys sysfs rw,/);
  t.regex(result.stdout, /^0$/m, '/proc/kcore is not masked');
  t.regex(result.stdout, /^loop-control$|^fuse$/m);
});

test('--read-only: the root is read-only, --tmpfs /tmp writable, /dev/shm still writable', async (t) => {
  const result = await run(t, ['--read-only', 'bb', 'sh', '-c', 'touch /x 2>&1; touch /tmp/y 2>&1; echo ok > /dev/shm/z && echo shm']);
  t.regex(result.stdout, /\/x: Read-only file system/);
  t.regex(result.stdout, /\/tmp\/y: Read-only file system/);
  t.regex(result.stdout, /^shm$/m);
  await run(t, ['--read-only', '--tmpfs', '/tmp', '-w', '/work', 'bb', 'touch', '/tmp/y']);
});

test('--security-opt no-new-privileges and seccomp=unconfined', async (t) => {
  const plain = await run(t, ['bb', 'cat', '/proc/self/status']);
  t.is(statusField(plain.stdout, 'NoNewPrivs'), '0');
  t.is(statusField(plain.stdout, 'Seccomp'), '2');
  const nnp = await run(t, ['--security-opt', 'no-new-privileges', 'bb', 'cat', '/proc/self/status']);
  t.is(statusField(nnp.stdout, 'NoNewPrivs'), '1');
  const off = await run(t, ['--security-opt', 'no-new-privileges:false', '--security-opt', 'seccomp=unconfined', 'bb', 'cat', '/proc/self/status']);
  t.is(statusField(off.stdout, 'NoNewPrivs'), '0');
  t.is(statusField(off.stdout, 'Seccomp'), '0');
});

test('--device makes the node in the container and lets it be opened; without it the cgroup refuses the same node', async (t) => {
  const result = await run(t, ['--device', '/dev/fuse:/dev/myfuse', 'bb', 'sh', '-c', 'ls -l /dev/myfuse && exec 3<>/dev/myfuse && echo opened']);
  t.regex(result.stdout, /^crw.* 10,\s+229 .*\/dev\/myfuse$/m);
  t.regex(result.stdout, /^opened$/m);
  const refused = await run(t, ['bb', 'sh', '-c', 'mknod /tmp/fuse c 10 229 && exec 3<>/tmp/fuse'], 1);
  t.regex(refused.stderr, /Operation not permitted/);
  await run(t, ['--device-cgroup-rule', 'c 10:229 rwm', 'bb', 'sh', '-c', 'mknod /tmp/fuse c 10 229 && exec 3<>/tmp/fuse']);
});

test('--sysctl sets namespaced values inside only', async (t) => {
  const hostShmmni = readFileSync('/proc/sys/kernel/shmmni', 'utf8');
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const result = await run(t, ['--sysctl', 'kernel.shmmni=1234', '--sysctl', 'net.ipv4.ip_forward=1', 'bb', 'cat', '/proc/sys/kernel/shmmni', '/proc/sys/net/ipv4/ip_forward']);
  t.is(result.stdout, '1234\n1\n');
  t.is(readFileSync('/proc/sys/kernel/shmmni', 'utf8'), hostShmmni);
  t.is(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward);
});

test('--group-add by name (the image\'s /etc/group) and number', async (t) => {
  const result = await run(t, ['-u', 'app', '--group-add', 'audio', '--group-add', '777', 'bb', 'id', '-G']);
  t.deepEqual(result.stdout.trim().split(' ').map(Number).sort((a, b) => a - b), [29, 50, 777, 1000]);
});

test('exec gets the container\'s caps, no_new_privs, filter and groups; exec --privileged every cap', async (t) => {
  const started = await cli(store.root, ['run', '-d', '--cap-drop', 'ALL', '--cap-add', 'CHOWN', '--security-opt', 'no-new-privileges', '--group-add', '50', 'bb', 'sleep', '60']);
  t.is(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  try {
    const status = await cli(store.root, ['exec', id, 'cat', '/proc/self/status']);
    t.is(statusField(status.stdout, 'CapEff'), '0000000000000001');
    t.is(statusField(status.stdout, 'NoNewPrivs'), '1');
    t.is(statusField(status.stdout, 'Seccomp'), '2');
    t.regex((await cli(store.root, ['exec', id, 'id'])).stdout, /groups=.*50\(staff\)/);
    const privileged = await cli(store.root, ['exec', '--privileged', id, 'cat', '/proc/self/status']);
    t.is(statusField(privileged.stdout, 'CapEff'), statusField(readFileSync('/proc/self/status', 'utf8'), 'CapBnd'));
    const inspect = JSON.parse((await cli(store.root, ['inspect', id])).stdout)[0].HostConfig;
    t.like(inspect, { CapAdd: ['CAP_CHOWN'], CapDrop: ['ALL'], GroupAdd: ['50'], Privileged: false, ReadonlyRootfs: false, SecurityOpt: ['no-new-privileges'], Devices: [] });
  } finally {
    await cli(store.root, ['rm', '-f', id]);
  }
});

test('inspect shows Devices, Sysctls, ReadonlyRootfs and Privileged as Docker does', async (t) => {
  const created = await cli(store.root, ['create', '--read-only', '--privileged', '--device', '/dev/fuse', '--sysctl', 'kernel.shmmax=4096', 'bb']);
  t.is(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  try {
    const host = JSON.parse((await cli(store.root, ['inspect', id])).stdout)[0].HostConfig;
    t.like(host, {
      Privileged: true, ReadonlyRootfs: true, Sysctls: { 'kernel.shmmax': '4096' },
      Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
    });
  } finally {
    await cli(store.root, ['rm', '-f', id]);
  }
});

test('bad values: Docker\'s message, exit 125, no container created', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--cap-add', 'bogus'], /invalid CapAdd: unknown capability: "CAP_BOGUS"/],
    [['--security-opt', 'foo=bar'], /invalid --security-opt 2: "foo=bar"/],
    [['--security-opt', 'seccomp=/nonexistent.json'], /opening seccomp profile \(\/nonexistent.json\) failed/],
    [['--device', '/dev/nonexistent'], /error gathering device information while adding custom device "\/dev\/nonexistent": no such file or directory/],
    [['--device-cgroup-rule', 'z 1:1 r'], /invalid device cgroup format 'z 1:1 r'/],
    [['--sysctl', 'kernel.hostname=x'], /sysctl 'kernel.hostname=x' is not allowed/],
    [['--sysctl', 'net.ipv4.ip_forward=1', '--network', 'host'], /sysctl "net.ipv4.ip_forward" not allowed in host network namespace/],
    [['--group-add', 'nosuchgroup'], /unable to find group nosuchgroup/],
  ];
  for (const [args, message] of cases) {
    const result = await cli(store.root, ['run', ...args, 'bb', 'true']);
    t.is(result.code, 125, args.join(' '));
    t.regex(result.stderr, message);
  }
  t.is((await cli(store.root, ['ps', '-aq'])).stdout, '');
});

test("Docker's default profile: unshare and mount are refused; with CAP_SYS_ADMIN they are allowed (the profile's includes)", async (t) => {
  // A user namespace needs no capability: only the filter refuses it.
  const denied = await run(t, ['bb', 'sh', '-c', 'unshare -U true; echo unshare=$?'], 0);
  t.regex(denied.stdout, /unshare=1/);
  t.regex(denied.stderr, /Operation not permitted/);
  t.regex((await run(t, ['--security-opt', 'seccomp=unconfined', 'bb', 'sh', '-c', 'unshare -U true; echo unshare=$?'])).stdout, /unshare=0/);
  const allowed = await run(t, ['--cap-add', 'SYS_ADMIN', 'bb', 'sh', '-c', 'unshare -m true && echo unshare=$?']);
  t.regex(allowed.stdout, /unshare=0/);
});

test('--security-opt seccomp=FILE loads a user profile, in run, -d (the monitor) and exec; inspect records its JSON', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-seccomp-'));
  try {
    const profile = join(dir, 'deny-mkdir.json');
    await writeFile(profile, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    }, null, 2));
    const result = await run(t, ['--security-opt', `seccomp=${profile}`, 'bb', 'sh', '-c', 'mkdir /tmp/x; unshare -U true && echo unshared'], 0);
    t.regex(result.stderr, /Permission denied/, 'mkdir gets the profile\'s EACCES');
    t.regex(result.stdout, /unshared/, 'what the profile allows runs');
    const started = await cli(store.root, ['run', '-d', '--security-opt', `seccomp=${profile}`, 'bb', 'sleep', '60']);
    t.is(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    try {
      const exec = await cli(store.root, ['exec', id, 'mkdir', '/tmp/y']);
      t.is(exec.code, 1);
      t.regex(exec.stderr, /Permission denied/);
      const host = JSON.parse((await cli(store.root, ['inspect', id])).stdout)[0].HostConfig;
      t.is(host.SecurityOpt[0], `seccomp=${JSON.stringify(JSON.parse(readFileSync(profile, 'utf8')))}`);
    } finally {
      await cli(store.root, ['rm', '-f', id]);
    }
    await writeFile(profile, '{"defaultAction": "SCMP_ACT_NOPE"}');
    const bad = await cli(store.root, ['run', '--rm', '--security-opt', `seccomp=${profile}`, 'bb', 'true']);
    t.is(bad.code, 125);
    t.regex(bad.stderr, /unsupported action "SCMP_ACT_NOPE"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
