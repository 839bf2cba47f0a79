// Known container escapes (issue 13 §6), each run for real against nbox; the
// host must come out untouched. Covered elsewhere, not repeated here:
// CVE-2019-5736 as "/proc/self/exe runs the host binary" (escapes-runtime:
// ENTRYPOINT /proc/self/exe; exec: a command linked to /proc/self/exe),
// CVE-2024-21626 (run: a WORKDIR through /proc/self/fd; exec: -w through
// /proc/self/fd or a link to it; escapes-runtime: -w /proc/self/fd/0 with a
// host directory on stdin), mounts over /proc (escapes-runtime), cp symlink
// escapes (cp.test.ts).
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tar from 'tar-stream';

import { CLI, cli, makeRootfs, rootTest, sharedTestStore, tarOf } from '../helpers/env';
import { tarMember } from '../helpers/raw-tar';

const test = rootTest();
const store = sharedTestStore(test);
let work = '';
let attacks = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'nbox-cve-'));
  attacks = join(work, 'attacks');
  execFileSync('gcc', ['-static', '-O1', '-o', attacks, resolve(__dirname, '../../../test/fixtures/attacks/attacks.c')]);
});
test.after.always(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The host executables a joined process could show as /proc/PID/exe: node, the monitor, the exec helper. */
function hostExecutables(): string[] {
  const release = resolve(__dirname, '../../../build/Release');
  return [process.execPath, join(release, 'nbox-monitor'), join(release, 'nbox-exec')];
}

async function image(t: ExecutionContext, name: string, shape: (rootfs: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(work, `${name}-`));
  const rootfs = await makeRootfs(dir);
  await shape(rootfs);
  t.truthy(await store.nbox.importImage(tarOf(rootfs), { tags: [`${name}:latest`] }));
  return name;
}

/** waitRunning waits until the record says running: a command's first output can come before the monitor wrote that. */
async function waitRunning(id: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const inspect = await cli(store.root, ['inspect', id]);
    if (inspect.code === 0 && JSON.parse(inspect.stdout)[0].State.Running) return;
    await new Promise((done) => setTimeout(done, 50));
  }
}

async function waitForLog(id: string, text: string): Promise<string> {
  for (let tries = 0; tries < 200; tries++) {
    const logs = await cli(store.root, ['logs', id]);
    if (logs.stdout.includes(text)) return logs.stdout;
    await new Promise((done) => setTimeout(done, 50));
  }
  return (await cli(store.root, ['logs', id])).stdout;
}

/** startAttack runs /attacks detached with args (run options, then the attack's own) and waits until it is ready. */
async function startAttack(t: ExecutionContext, options: string[], attack: string[]): Promise<string> {
  const started = await cli(store.root, ['run', '-d', ...options, '-v', `${attacks}:/attacks:ro`, 'bb', '/attacks', ...attack]);
  t.is(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  await waitForLog(id, 'ready');
  await waitRunning(id);
  return id;
}

/** endAttack ends a looping attack and returns its log. The /tmp/stop it ends on is put in by cp, not by an exec:
 * the init ends on it, and the kernel would kill an exec still in the namespace then. */
async function endAttack(t: ExecutionContext, id: string): Promise<string> {
  const stop = join(work, 'stop');
  writeFileSync(stop, '');
  const copied = await cli(store.root, ['cp', stop, `${id}:/tmp/stop`]);
  t.is(copied.code, 0, copied.stderr);
  return waitForLog(id, 'done');
}

test('CVE-2019-5736: a container process never gets a host executable behind /proc/PID/exe of exec or of health probes', async (t) => {
  const before = hostExecutables().map(sha256);
  // The attacker is the container's init: it takes an O_PATH fd of every other process's exe it can
  // open and keeps trying to reopen it for writing, while exec and the monitor's probes join the container.
  const id = await startAttack(t, ['--health-cmd', 'true', '--health-interval', '100ms', '--health-start-period', '0s'], ['exe', '300']);
  try {
    for (let i = 0; i < 4; i++) {
      const exec = await cli(store.root, ['exec', id, 'true']);
      t.is(exec.code, 0, exec.stderr);
      const detached = await cli(store.root, ['exec', '-d', id, 'sleep', '0.2']);
      t.is(detached.code, 0, detached.stderr);
    }
    const logs = await endAttack(t, id);
    t.regex(logs, /^ready$/m);
    t.regex(logs, /^done$/m, 'the attack ran to its end');
    t.notRegex(logs, /^(SAW|OPENED) /m, 'no host executable was reachable');
  } finally {
    await cli(store.root, ['rm', '-f', id]);
  }
  t.deepEqual(hostExecutables().map(sha256), before);
});

// A PATH of many missing directories before the real ones: the command's search for `true` takes long enough
// (an execve per entry) that the attack stops it before its exec.
const SLOW_PATH = `PATH=${Array.from({ length: 3000 }, (_, i) => `/nowhere${i}`).join(':')}:/bin`;

test('exec and health probes: a container with CAP_SYS_PTRACE that stops each joined command before its exec never finds the runtime\'s memory in it', async (t) => {
  const health = ['--health-cmd', 'true', '--health-interval', '100ms', '--health-start-period', '0s'];
  const id = await startAttack(t, ['--cap-add', 'SYS_PTRACE', ...health], ['stop', '300', '1']);
  try {
    for (let i = 0; i < 5; i++) {
      const exec = await cli(store.root, ['exec', '-e', SLOW_PATH, id, 'true']);
      t.is(exec.code, 0, exec.stderr);
      const detached = await cli(store.root, ['exec', '-d', '-e', SLOW_PATH, id, 'true']);
      t.is(detached.code, 0, detached.stderr);
      // From a terminal, as a user types it: the command is never in nbox's session, with its terminal to push keys into.
      execFileSync('script', ['-qec', `${process.execPath} -- ${CLI} exec -e ${SLOW_PATH} ${id} true`, '/dev/null'], { env: { ...process.env, NBOX_ROOT: store.root }, stdio: 'ignore' });
    }
    const logs = await endAttack(t, id);
    t.regex(logs, /^caught [1-9]/m, 'the attack stopped joined commands');
    // Before its exec a joined command is the sealed nbox-exec's image: never nbox's node, nor the monitor; and
    // it has no controlling terminal.
    t.notRegex(logs, /^(MAPPED|TTY) /m);
  } finally {
    await cli(store.root, ['rm', '-f', id]);
  }
});

test('an exec whose command the container stops before its exec fails after a bounded wait, its command killed, instead of hanging nbox', async (t) => {
  // CAP_SYS_PTRACE only to tell a command before its exec from one after (/proc/PID/exe), which it lets go.
  const id = await startAttack(t, ['--cap-add', 'SYS_PTRACE'], ['stop', '300', '0']);
  try {
    // The attack may miss a command (on a loaded machine), which then runs: tried until one is caught.
    let exec = await cli(store.root, ['exec', '-e', SLOW_PATH, id, 'true']);
    for (let tries = 1; tries < 10 && exec.code === 0; tries++) exec = await cli(store.root, ['exec', '-e', SLOW_PATH, id, 'true']);
    t.is(exec.code, 126);
    t.regex(exec.stderr, /^nbox: .*"true": did not start in time: something in the container stopped it before its exec/);
    t.is(exec.stderr.trim().split('\n').length, 1, exec.stderr);
    // The stopped command was killed and reaped: nothing in the container runs nbox-exec any more.
    const top = await cli(store.root, ['top', id]);
    t.is(top.code, 0, top.stderr);
    t.notRegex(top.stdout, /nbox-exec/);
    // Meanwhile the library's process goes on (nbox serve's, a harness's): the join waits on the thread pool.
    for (let tries = 0; tries < 10; tries++) {
      const order: string[] = [];
      const waiting = store.nbox.exec(id, ['true'], { env: [SLOW_PATH] }).then(() => order.push('ran'), () => order.push('failed'));
      const timer = setTimeout(() => order.push('timer'), 1000);
      await waiting;
      clearTimeout(timer);
      if (order.includes('ran')) continue;
      t.deepEqual(order, ['timer', 'failed']);
      return;
    }
    t.fail('the attack caught no command');
  } finally {
    await cli(store.root, ['rm', '-f', id]);
  }
});

test('CVE-2019-16884: a volume over /proc/self/attr (or through an image link into /proc) is refused, the host dir untouched', async (t) => {
  const host = await mkdtemp(join(work, 'attr-'));
  const linked = await image(t, 'attrlink', async (rootfs) => {
    await symlink('/proc/self/attr', join(rootfs, 'attr'));
    await symlink('/proc/sys', join(rootfs, 'sysctl'));
  });
  for (const args of [
    ['-v', `${host}:/proc/self/attr`, 'bb'],
    ['-v', `${host}:/attr`, linked],
    ['--tmpfs', '/sysctl', linked],
    ['-v', `${host}:/attr/exec`, linked],
  ]) {
    const r = await cli(store.root, ['run', '--rm', ...args, 'true']);
    t.is(r.code, 125, args.join(' '));
    t.regex(r.stderr, /cannot be mounted because it is inside \/proc/);
  }
  t.deepEqual(readdirSync(host), []);
});

test('CVE-2023-27561 / CVE-2025-52881: links the image planted in or as /proc never redirect --sysctl out of the container\'s procfs', async (t) => {
  const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
  const fake = async (rootfs: string) => {
    await mkdir(join(rootfs, 'fake/sys/kernel'), { recursive: true });
    await writeFile(join(rootfs, 'fake/sys/kernel/shmmax'), 'image file\n');
  };
  // /proc/sys a link in the image's /proc: the procfs mount covers it, and the value lands in procfs.
  const inner = await image(t, 'fakeprocsys', async (rootfs) => {
    await fake(rootfs);
    await mkdir(join(rootfs, 'proc'));
    await symlink('/fake/sys', join(rootfs, 'proc/sys'));
  });
  const r = await cli(store.root, ['run', '--rm', '--sysctl', 'kernel.shmmax=4242', inner, 'sh', '-c',
    'stat -f -c %T /proc/sys/kernel; cat /proc/sys/kernel/shmmax; cat /fake/sys/kernel/shmmax']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'proc\n4242\nimage file\n');
  // /proc itself a link: procfs is never mounted through it, so the container does not start.
  const outer = await image(t, 'fakeproc', async (rootfs) => {
    await fake(rootfs);
    await symlink('/fake', join(rootfs, 'proc'));
  });
  const refused = await cli(store.root, ['run', '--rm', '--sysctl', 'kernel.shmmax=4242', outer, 'true']);
  t.is(refused.code, 125);
  t.regex(refused.stderr, /mount-proc/);
  t.is(readFileSync('/proc/sys/kernel/shmmax', 'utf8'), hostShmmax);
});

test('CVE-2025-31133: an image (or a container before its restart) whose /dev/null is a link cannot turn the masks into procfs files', async (t) => {
  // The link aims at a namespaced procfs file: were it bound over /proc/kcore, writing there would change it.
  const name = await image(t, 'nulllink', async (rootfs) => {
    await mkdir(join(rootfs, 'dev'), { recursive: true });
    await symlink('/proc/sys/kernel/shmmax', join(rootfs, 'dev/null'));
  });
  // Docker's masked files this kernel has (kcore is not built into every kernel).
  const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/interrupts', '/proc/sched_debug'].filter((path) => {
    try {
      return readFileSync(path, { flag: 'r' }) !== null;
    } catch {
      return false;
    }
  });
  t.true(masked.length > 0);
  const check = `stat -c "%F %t:%T" ${masked.join(' ')}; wc -c < ${masked[0]}; (echo 1 > ${masked[0]}) 2>/dev/null; cat /proc/sys/kernel/shmmax`;
  const nulls = masked.map(() => 'character special file 1:3\n').join('');
  const shmmax = (await cli(store.root, ['run', '--rm', 'bb', 'cat', '/proc/sys/kernel/shmmax'])).stdout;
  const r = await cli(store.root, ['run', '--rm', name, 'sh', '-c', check]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, `${nulls}0\n${shmmax}`);
  // The container itself replaces /dev/null, then dies: its restart must mask with a real null device again.
  const started = await cli(store.root, ['run', '-d', '--restart', 'on-failure:1', 'bb', 'sh', '-c',
    `if [ -e /tmp/second ]; then ${check}; else touch /tmp/second; rm /dev/null; ln -s /proc/sys/kernel/shmmax /dev/null; exit 1; fi`]);
  t.is(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  try {
    const logs = await waitForLog(id, shmmax);
    t.true(logs.endsWith(`${nulls}0\n${shmmax}`), logs);
  } finally {
    await cli(store.root, ['rm', '-f', id]);
  }
});

test('CVE-2025-31133 in exec: a /dev/null the container replaced by a link is never what an exec\'s stdio opens', async (t) => {
  const started = await cli(store.root, ['run', '-d', 'bb', 'sh', '-c',
    // It shows the target on SIGUSR1, not after a sleep: a loaded host may take longer than any sleep for the two execs.
    'trap "cat /tmp/target; exit 0" USR1; echo original > /tmp/target; rm /dev/null; ln -s /tmp/target /dev/null; echo replaced; while true; do sleep 0.1; done']);
  t.is(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  try {
    await waitForLog(id, 'replaced');
    await waitRunning(id);
    // The container's /dev/null (0-2 of exec -d, and what a host /dev/null stdio becomes) must be the null device.
    for (const args of [['-d', id, 'sh', '-c', 'echo written-through-stdout'], [id, 'sh', '-c', 'echo written-through-stdout']]) {
      const exec = await cli(store.root, ['exec', ...args]);
      t.is(exec.code, 126, exec.stderr);
      t.regex(exec.stderr, /device-nodes: open \/dev/);
    }
    t.is((await cli(store.root, ['kill', '-s', 'USR1', id])).code, 0);
    t.is(await waitForLog(id, 'original'), 'replaced\noriginal\n');
  } finally {
    await cli(store.root, ['rm', '-f', id]);
  }
});

// A layer tar with one hostile shape after a busybox; the host directory is what it aims at.
async function hostileTar(path: string, host: string, kind: string): Promise<void> {
  const pack = tar.pack();
  const done = new Promise<Buffer>((ok, fail) => {
    const chunks: Buffer[] = [];
    pack.on('data', (chunk) => { chunks.push(chunk as Buffer); }).on('end', () => ok(Buffer.concat(chunks))).on('error', fail);
  });
  pack.entry({ name: 'bin/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'bin/busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  pack.entry({ name: 'bin/sh', type: 'symlink', linkname: 'busybox' });
  const up = '../../../../../../../..';
  if (kind === 'absolute symlink, then a file through it') {
    pack.entry({ name: 'abs', type: 'symlink', linkname: host });
    pack.entry({ name: 'abs/through', mode: 0o644 }, 'x');
  } else if (kind === 'relative ../ symlink, then a file through it') {
    pack.entry({ name: 'rel', type: 'symlink', linkname: up + host });
    pack.entry({ name: 'rel/through', mode: 0o644 }, 'x');
  } else if (kind === 'a ../ member name') {
    pack.entry({ name: `${up}${host}/dotdot`, mode: 0o644 }, 'x');
  } else if (kind === 'an absolute member name') {
    pack.entry({ name: `${host}/absolute`, mode: 0o644 }, 'x');
  } else if (kind === 'a hard link out of the layer') {
    pack.entry({ name: 'hard', type: 'link', linkname: `${up}${host}/secret` });
  } else if (kind === 'a symlink, then a directory and a file through it') {
    pack.entry({ name: 'd', type: 'symlink', linkname: host });
    pack.entry({ name: 'd/', type: 'directory', mode: 0o755 });
    pack.entry({ name: 'd/x', mode: 0o644 }, 'x');
  }
  pack.finalize();
  await writeFile(path, await done);
}

test('hostile layer whiteouts: an extended header named like a host .wh. file touches nothing outside the layer', async (t) => {
  const host = await mkdtemp(join(work, 'whiteout-target-'));
  await writeFile(join(host, '.wh.victim'), 'precious\n');
  // A PAX header block's own name is no member (GNU tar never writes it); taken for a whiteout, it named a host path.
  const pax = Buffer.from('11 mtime=0\n');
  const layer = Buffer.concat([
    tarMember(`${'../'.repeat(8)}${host.slice(1)}/.wh.victim`.slice(0, 100), pax, 'x'),
    tarMember('hello', Buffer.from('hi\n'), '0'),
    Buffer.alloc(1024),
  ]);
  t.true(`${'../'.repeat(8)}${host.slice(1)}/.wh.victim`.length <= 100, 'the name fits a ustar header');
  await writeFile(join(work, 'whiteout.tar'), layer);
  const imported = await cli(store.root, ['import', join(work, 'whiteout.tar'), 'whiteout:latest']);
  t.is(imported.code, 0, imported.stderr);
  t.deepEqual(readdirSync(host), ['.wh.victim']);
  t.is(await readFile(join(host, '.wh.victim'), 'utf8'), 'precious\n');
  await cli(store.root, ['rmi', 'whiteout']);
});

test('a POSIX-format layer with whiteouts imports: its PAX headers are not whiteouts', async (t) => {
  const dir = await mkdtemp(join(work, 'posix-layer-'));
  await mkdir(join(dir, 'etc'));
  await writeFile(join(dir, 'etc', '.wh.motd'), '');
  await writeFile(join(dir, 'etc', 'kept'), 'kept\n');
  execFileSync('tar', ['--format=posix', '-C', dir, '-cf', join(work, 'posix.tar'), 'etc']);
  const imported = await cli(store.root, ['import', join(work, 'posix.tar'), 'posix-wh:latest']);
  t.is(imported.code, 0, imported.stderr);
  await cli(store.root, ['rmi', 'posix-wh']);
});

test('hostile image layers: absolute and ../ symlinks with files written through them, ../ and absolute names, hard links out', async (t) => {
  const kinds = [
    'absolute symlink, then a file through it', 'relative ../ symlink, then a file through it', 'a ../ member name',
    'an absolute member name', 'a hard link out of the layer', 'a symlink, then a directory and a file through it',
  ];
  for (const kind of kinds) {
    const host = await mkdtemp(join(work, 'layer-target-'));
    await writeFile(join(host, 'secret'), 'host secret\n');
    const layer = join(work, 'hostile.tar');
    await hostileTar(layer, host, kind);
    const imported = await cli(store.root, ['import', layer, 'hostile:latest']);
    t.deepEqual(readdirSync(host), ['secret'], kind);
    t.is(await readFile(join(host, 'secret'), 'utf8'), 'host secret\n', kind);
    if (imported.code === 0) {
      // What was accepted stays inside the image: the absolute name lands under its own root.
      const inside = await cli(store.root, ['run', '--rm', 'hostile', 'sh', '-c', `cat ${host}/absolute 2>/dev/null; cat ${host}/secret 2>/dev/null; echo end`]);
      t.is(inside.stdout, kind === 'an absolute member name' ? 'xend\n' : 'end\n', kind);
      await cli(store.root, ['rmi', 'hostile']);
    } else {
      t.regex(imported.stderr, /tar: /, kind);
    }
  }
});
