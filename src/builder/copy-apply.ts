// Writing a COPY/ADD plan into an empty layer directory. Every path written is
// the layer dir plus a clean in-root path whose parents this code created as
// real directories, and final names are created exclusively (never through an
// existing symlink), so nothing can be written outside the layer. Every source
// file is read through an fd of the very file the plan saw: the context may
// change meanwhile, and a file swapped for a symlink must not copy the host.
import { constants, chmodSync, createReadStream, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { NboxError, SysError, isErrno } from '../errors';
import { extractTar } from '../image/tar/archive';
import { deviceNumbers } from '../image/tar/devices';
import type { CopyPlan, PlannedEntry } from './copy';
import { SourceRoots } from './source-file';
import type { Owner } from './copy-modes';
import { forEachLimited } from '../pool';
import { copiedXattrs, makeNode, setXattr } from '../image/fs-calls';

// Small files are copied with synchronous calls on the main thread: measured
// here, a thread-pool round trip per file makes 20,000 small files take about
// twice as long. Large files go through the pool, where copies overlap.
const SYNC_COPY_LIMIT = 1 << 20;
const LARGE_COPIES_IN_FLIGHT = 8;
// Entries written between two yields to the event loop, so signals still run.
const ENTRIES_PER_YIELD = 256;

/** ApplyOptions tune how a plan is written. */
export interface ApplyOptions {
  /** linkFiles hardlinks copied regular files to their source instead of copying them: for a read-only
   * view of a rootfs, where the source files must then never be written, chmodded or chowned. */
  linkFiles?: boolean;
}

/** applyCopy writes the plan into layerDir, an empty directory that becomes the layer's diff (or a view); its
 * archives unpack in a scratch directory made beside it. */
export async function applyCopy(plan: CopyPlan, layerDir: string, options: ApplyOptions = {}): Promise<void> {
  const sources = new SourceRoots();
  try {
    await writePlan(plan, layerDir, options, sources);
  } finally {
    sources.close();
  }
}

async function writePlan(plan: CopyPlan, layerDir: string, options: ApplyOptions, sources: SourceRoots): Promise<void> {
  for (const entry of plan.entries) assertCleanPath(entry.path);
  // Owners and security xattrs can only be set by root; unprivileged runs
  // (tests) keep their own ids, as unpacking a layer does.
  const privileged = process.getuid?.() === 0;
  const hostPath = (entry: PlannedEntry) => (entry.path === '/' ? layerDir : join(layerDir, entry.path));
  const dirs = plan.entries.filter((entry) => entry.kind === 'dir');

  for (const dir of dirs) if (dir.path !== '/') mkdirSync(hostPath(dir), 0o700);
  if (plan.archives.length > 0) {
    for (const archive of plan.archives) {
      // Each archive unpacks into an empty directory of its own, then moves into the layer: GNU tar trusts a
      // symlink it finds already there, so a second archive unpacked where the first left `x -> /tmp` wrote
      // through it to the host. The scratch directory is beside layerDir, on its filesystem (rename).
      const scratch = mkdtempSync(join(dirname(layerDir), 'archive-'));
      try {
        const source = sources.open(archive.hostPath, archive.seen);
        try {
          await extractTar(createReadStream(source.path), archive.compression, scratch);
        } finally {
          source.close();
        }
        if (archive.owner && privileged) chownTree(scratch, archive.owner);
        moveInto(scratch, join(layerDir, archive.destDir));
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    // An archive may have replaced a planned directory with a symlink; writing
    // below it would then leave the layer.
    for (const dir of dirs) {
      if (!lstatSync(hostPath(dir)).isDirectory()) throw new NboxError('ERR_NBOX_BUILD', `archive replaced directory ${dir.path}`);
    }
  }

  const largeFiles: PlannedEntry[] = [];
  let sinceYield = 0;
  for (const entry of plan.entries) {
    if (entry.kind === 'dir' || entry.kind === 'hardlink') continue;
    const linked = options.linkFiles === true && entry.kind === 'file' && entry.content === undefined;
    if (isLargeFile(entry) && !linked) {
      largeFiles.push(entry);
      continue;
    }
    const target = hostPath(entry);
    // A link shares the source's inode, metadata included: nothing to set.
    if (linked) linkSync(entry.hostPath!, target);
    else {
      replacing(target, () => createLeaf(entry, target, sources));
      setAttributes(entry, target, privileged, false, isCopiedFile(entry));
    }
    if (++sinceYield >= ENTRIES_PER_YIELD) {
      sinceYield = 0;
      await yieldToLoop();
    }
  }
  await forEachLimited(largeFiles, LARGE_COPIES_IN_FLIGHT, async (entry) => {
    const target = hostPath(entry);
    const source = sources.open(entry.hostPath!, entry.seen);
    try {
      await copyFile(source.path, target, constants.COPYFILE_EXCL);
    } catch (err) {
      removeTaken(target, err);
      await copyFile(source.path, target, constants.COPYFILE_EXCL);
    } finally {
      source.close();
    }
    setAttributes(entry, target, privileged);
  });
  for (const entry of plan.entries) {
    if (entry.kind === 'hardlink') replacing(hostPath(entry), () => linkSync(join(layerDir, entry.target!), hostPath(entry)));
  }
  // Directory times last, deepest first: creating entries inside bumps them.
  for (const dir of [...dirs].reverse()) setAttributes(dir, hostPath(dir), privileged, true);
}

function isLargeFile(entry: PlannedEntry): boolean {
  return entry.kind === 'file' && entry.content === undefined && (entry.size ?? Infinity) > SYNC_COPY_LIMIT;
}

function createLeaf(entry: PlannedEntry, target: string, sources: SourceRoots): void {
  if (entry.kind === 'symlink') symlinkSync(entry.target!, target);
  else if (entry.kind === 'special') makeNode(target, entry.typeBits! | entry.mode, ...deviceNumbers(entry.rdev!));
  else if (entry.content) writeFileSync(target, entry.content, { flag: 'wx', mode: 0o600 });
  // The very file planned, copied in one native call (copy_file_range, mode and times set on the fd) to a new
  // name: O_EXCL never follows a symlink.
  else sources.copy(entry.hostPath!, entry.seen!, target, entry.mode, entry.mtimeMs);
}

function isCopiedFile(entry: PlannedEntry): boolean {
  return entry.kind === 'file' && entry.content === undefined;
}

// replacing runs create, and when the name is taken (an archive wrote it first)
// removes that non-directory and creates again.
function replacing(target: string, create: () => void): void {
  try {
    create();
  } catch (err) {
    removeTaken(target, err);
    create();
  }
}

// removeTaken rethrows err unless it says target exists as a non-directory, which it removes.
function removeTaken(target: string, err: unknown): void {
  const taken = isErrno(err, 'EEXIST') || (err instanceof SysError && err.errnoName === 'EEXIST');
  if (!taken || lstatSync(target).isDirectory()) throw err;
  unlinkSync(target);
}

// setAttributes applies owner, then mode (chown clears setuid bits), then
// xattrs (chown clears security.capability), then times. A file the copy wrote
// has its mode and times already: only a chown makes its mode needed again.
function setAttributes(entry: PlannedEntry, target: string, privileged: boolean, alwaysChown = false, modeAndTimesSet = false): void {
  // A new entry already belongs to the (root) caller: most entries need no chown;
  // directories may have been chowned by an extracted archive and always get theirs.
  const chown = privileged && (alwaysChown || entry.uid !== process.getuid!() || entry.gid !== process.getgid!());
  if (chown) lchownSync(target, entry.uid, entry.gid);
  if (entry.kind !== 'symlink' && (chown || !modeAndTimesSet)) chmodSync(target, entry.mode);
  if (privileged && entry.copyXattrs && entry.hostPath) {
    for (const [name, value] of copiedXattrs(entry.hostPath)) setXattr(target, name, value);
  }
  if (modeAndTimesSet) return;
  const seconds = entry.mtimeMs / 1000;
  lutimesSync(target, seconds, seconds);
}

// moveInto moves what from holds into the directory to, as unpacking it there would leave it: a directory
// met by a directory is merged (and takes its owner, mode and times), anything else replaces what was there.
// Only what lstat calls a directory is entered: a symlink in to is a name to replace, never a way through.
function moveInto(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    const target = join(to, name);
    const stats = lstatSync(source);
    const existing = lstatSync(target, { throwIfNoEntry: false });
    if (existing?.isDirectory() && stats.isDirectory()) {
      moveInto(source, target);
      lchownSync(target, stats.uid, stats.gid);
      chmodSync(target, stats.mode & 0o7777);
      lutimesSync(target, stats.atime, stats.mtime);
      continue;
    }
    if (existing) rmSync(target, { recursive: true, force: true });
    renameSync(source, target);
  }
}

// chownTree gives every extracted entry the --chown owner, as BuildKit does for ADD archives.
function chownTree(dir: string, owner: Owner): void {
  lchownSync(dir, owner.uid, owner.gid);
  for (const dirent of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, dirent.name);
    if (dirent.isDirectory()) chownTree(path, owner);
    else lchownSync(path, owner.uid, owner.gid);
  }
}

function assertCleanPath(path: string): void {
  if (path === '/') return;
  if (!path.startsWith('/') || path.split('/').slice(1).some((name) => name === '' || name === '.' || name === '..')) {
    throw new NboxError('ERR_NBOX_BUILD', `refusing to write unclean path ${JSON.stringify(path)} into a layer`);
  }
}
