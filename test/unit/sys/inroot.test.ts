// The addon's resolution inside a root (native/inroot.c): symlinks never lead
// out of the root, nothing but the planned regular file is opened, and stub
// removal follows no symlink. openat2 needs no privilege: these run as anyone.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SysError } from '../../../src/errors';
import { addon } from '../../../src/sys/addon';

// A root with a host directory beside it that links inside the root point at.
function setup(t: ExecutionContext): { root: string; host: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-inroot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const host = join(dir, 'host');
  mkdirSync(join(root, 'in/sub'), { recursive: true });
  mkdirSync(host);
  writeFileSync(join(host, 'secret'), 'host\n');
  writeFileSync(join(root, 'in/file'), 'root\n');
  symlinkSync(host, join(root, 'abs'));
  symlinkSync('../../../host', join(root, 'in/rel-out'));
  symlinkSync('/in', join(root, 'to-in'));
  return { root, host };
}

const target = (fd: number) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd);
  }
};

function throwsErrno(t: ExecutionContext, fn: () => unknown, name: string): void {
  const err = t.throws(fn, { instanceOf: SysError });
  t.is((err as SysError).errnoName, name);
}

test('openInRoot resolves absolute links and .. inside the root', (t) => {
  const { root } = setup(t);
  t.is(target(addon().openInRoot(root, 'to-in/file')), join(root, 'in/file'));
  t.is(target(addon().openInRoot(root, '/../../in/sub/../file')), join(root, 'in/file'));
  // ../../../host climbs to the root and stops there: root/host, which is not there.
  throwsErrno(t, () => addon().openInRoot(root, 'in/rel-out'), 'ENOENT');
  throwsErrno(t, () => addon().openInRoot(root, 'abs/secret'), 'ENOENT');
});

test('openInRoot resolves .. while other processes rename files: the kernel\'s EAGAIN for that is tried again', async (t) => {
  const { root } = setup(t);
  // Renames anywhere on the system make a ".." step under RESOLVE_IN_ROOT fail with EAGAIN.
  const renamer = spawn(process.execPath, ['-e', 'const fs = require("fs"); fs.writeFileSync("a", ""); for (;;) { fs.renameSync("a", "b"); fs.renameSync("b", "a"); }'], { cwd: join(root, '..'), stdio: 'ignore' });
  t.teardown(() => renamer.kill('SIGKILL'));
  await new Promise((started) => setTimeout(started, 100));
  for (let i = 0; i < 20000; i++) closeSync(addon().openInRoot(root, '/../../in/sub/../file'));
  t.pass();
});

test('openInRoot with mkdir makes missing directories inside the root, and none through a link out of it', (t) => {
  const { root, host } = setup(t);
  t.is(target(addon().openInRoot(root, 'to-in/new/deeper', { mkdir: true })), join(root, 'in/new/deeper'));
  t.true(statSync(join(root, 'in/new/deeper')).isDirectory());
  throwsErrno(t, () => addon().openInRoot(root, 'abs/made', { mkdir: true }), 'ENOENT');
  throwsErrno(t, () => addon().openInRoot(root, 'in/rel-out/made', { mkdir: true }), 'ENOENT');
  t.deepEqual(execFileSync('ls', ['-A', host], { encoding: 'utf8' }), 'secret\n');
  const fd = addon().openInRoot(root, '.');
  t.is(target(addon().openInRoot(fd, 'in/file')), join(root, 'in/file'));
  closeSync(fd);
});

test('openFileInRoot opens only the regular file with the planned identity', (t) => {
  const { root } = setup(t);
  const file = lstatSync(join(root, 'in/file'));
  const fd = addon().openFileInRoot(root, 'to-in/file', file.dev, file.ino);
  t.is(readFileSync(fd, 'utf8'), 'root\n');
  t.true(fstatSync(fd).isFile());
  closeSync(fd);
  writeFileSync(join(root, 'other'), 'other\n');
  throwsErrno(t, () => addon().openFileInRoot(root, 'other', file.dev, file.ino), 'ESTALE');
  // A FIFO is never opened (that would block): it is refused by type first.
  execFileSync('mkfifo', [join(root, 'fifo')]);
  const fifo = lstatSync(join(root, 'fifo'));
  throwsErrno(t, () => addon().openFileInRoot(root, 'fifo', fifo.dev, fifo.ino), 'EINVAL');
});

test('copyFileInRoot copies into a new file with mode and mtime, never through a link', (t) => {
  const { root, host } = setup(t);
  const file = lstatSync(join(root, 'in/file'));
  const out = join(root, 'copy');
  addon().copyFileInRoot(root, 'in/file', file.dev, file.ino, out, 0o4751, 1_234_567_890_250);
  const copied = lstatSync(out);
  t.is(readFileSync(out, 'utf8'), 'root\n');
  t.is(copied.mode & 0o7777, 0o4751);
  t.is(copied.mtimeMs, 1_234_567_890_250);
  throwsErrno(t, () => addon().copyFileInRoot(root, 'in/file', file.dev, file.ino, out, 0o644, 0), 'EEXIST');
  symlinkSync(join(host, 'planted'), join(root, 'link'));
  throwsErrno(t, () => addon().copyFileInRoot(root, 'in/file', file.dev, file.ino, join(root, 'link'), 0o644, 0), 'EEXIST');
  t.false(existsSync(join(host, 'planted')));
});

test('removeEmptyBeneath removes an empty file or directory, and nothing through a link', (t) => {
  const { root, host } = setup(t);
  writeFileSync(join(root, 'empty'), '');
  mkdirSync(join(root, 'in/empty-dir'));
  writeFileSync(join(host, 'y'), '');
  t.true(addon().removeEmptyBeneath(root, 'empty'));
  t.true(addon().removeEmptyBeneath(root, 'in/empty-dir'));
  t.false(addon().removeEmptyBeneath(root, 'in/file'));
  t.false(addon().removeEmptyBeneath(root, 'in'));
  t.false(addon().removeEmptyBeneath(root, 'abs/y'));
  t.false(addon().removeEmptyBeneath(root, 'in/rel-out/y'));
  t.false(addon().removeEmptyBeneath(root, 'absent/y'));
  t.true(existsSync(join(host, 'y')));
  t.false(existsSync(join(root, 'empty')) || existsSync(join(root, 'in/empty-dir')));
});
