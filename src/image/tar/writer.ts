// A layer directory (an overlay upper dir, or a layer nbox wrote) as an OCI
// layer tar: entries sorted, parents first, kernel whiteouts turned into
// `.wh.` entries, opaque dirs into `.wh..wh..opq`, hardlinks kept, xattrs as
// binary PAX records. tar libraries for Node write PAX values as UTF-8
// strings, which corrupts binary xattrs (security.capability), hence this writer.
import type * as Crypto from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, read, readFileSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type * as Stream from 'node:stream';
import type { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

import { NboxError } from '../../errors';
import { addon } from '../../sys/addon';
import { MergedTree, OVERLAY_OPAQUE, changedWhileRead, isOpaqueDir, isWhiteout, type TreeEntry } from '../merged-tree';
import { PinnedDir } from '../pinned-dir';
import { deviceNumbers } from './devices';
import { BLOCK } from './header';
import type { LayerDigest } from './unpack';

// node:crypto loads on first use, not with the module: milliseconds of every nbox start.
function crypto(): typeof Crypto {
  return require('node:crypto') as typeof Crypto;
}

// node:stream loads on first use, not with the module: milliseconds of every nbox start.
function stream(): typeof Stream {
  return require('node:stream') as typeof Stream;
}

const READ_CHUNK = 1 << 20;
// Metadata calls and small reads are made synchronously: on a layer of many
// small files a thread-pool round trip per call costs more than the call.
// The walk yields to the event loop every YIELD_EVERY entries.
const SMALL_FILE = 1 << 20;
const YIELD_EVERY = 256;
// A layer dir holds what a step wrote: its files are read without following a
// symlink, and the walk descends only into what lstat saw as a directory.
// Non-blocking: a FIFO swapped in for a file after its lstat must not hang the read (a regular file ignores it).
const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;


/** keepXattr tells whether an extended attribute belongs in an image: overlay
 * bookkeeping (a copied opaque marker would hide a whole lower dir) and host
 * SELinux labels do not. */
export function keepXattr(name: string): boolean {
  return !name.startsWith('trusted.overlay.') && !name.startsWith('user.overlay.') && name !== 'security.selinux';
}

type EntryKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

const TYPEFLAG: Record<EntryKind, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

interface TarEntry {
  /** Path inside the layer, without a leading slash; directories end in '/'. */
  name: string;
  kind: EntryKind;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
  /** Host file holding the content of a regular file. */
  source?: string;
  /** Or, for a file a hostile process may move, where to open it: in-root, and only that very inode. */
  pinned?: PinnedSource;
}

interface PinnedSource {
  root: string;
  path: string;
  dev: number;
  ino: number;
}

/** layerTar streams the OCI tar of a layer directory; with expectedDiffId, the stream fails
 * at its end unless the tar hashes to it (the layer changed on disk since it was sealed). */
export function layerTar(dir: string, expectedDiffId?: string): Readable {
  const chunks = tarChunks(walk(dirByPath(dir), '', new Map()));
  return stream().Readable.from(expectedDiffId ? checkedDigest(chunks, expectedDiffId) : chunks, { objectMode: false });
}

async function* checkedDigest(chunks: AsyncIterable<Buffer>, expectedDiffId: string): AsyncGenerator<Buffer> {
  const hash = crypto().createHash('sha256');
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
  if (`sha256:${hash.digest('hex')}` !== expectedDiffId) {
    throw new NboxError('ERR_NBOX_STORE', `layer ${expectedDiffId} no longer matches its digest (its files changed on disk)`);
  }
}

/** liveLayerTar streams the OCI tar of an upper dir a running container may be changing (`docker
 * commit`): the walk holds each directory open and reads its entries through that fd, so a directory
 * swapped for a symlink meanwhile cannot lead it to host files. */
export function liveLayerTar(dir: string): Readable {
  function* entries(): Generator<TarEntry> {
    const root = PinnedDir.open(dir);
    try {
      yield* walk(root, '', new Map());
    } finally {
      root.close();
    }
  }
  return stream().Readable.from(tarChunks(entries()), { objectMode: false });
}

/** flattenedTar streams a merged view whole, names relative to its root: `docker export` of a
 * container's rootfs. Read as pathTar reads, so a running container cannot lead it to host files. */
export function flattenedTar(tree: MergedTree): Readable {
  return stream().Readable.from(tarChunks(mergedEntries(tree, tree.lstat('/')!, (path) => path.slice(1), false)), { objectMode: false });
}

/** pathTar streams the merged view's entry top, and below it, as a tar whose entries start with
 * name (`docker cp` out of a container). */
export function pathTar(tree: MergedTree, top: TreeEntry, name: string, shown = top.path): Readable {
  const rename = (path: string) => (top.path === '/' ? `${name}${path === '/' ? '' : path}` : `${name}${path.slice(top.path.length)}`);
  return stream().Readable.from(changesReported(tarChunks(mergedEntries(tree, top, rename, true)), shown), { objectMode: false });
}

// changesReported passes chunks on; a path that a running container removed or swapped while the walk read it
// fails the copy with that said, not with the system call on a path of nbox's own.
async function* changesReported(chunks: AsyncGenerator<Buffer>, shown: string): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (err) {
    throw changedWhileRead(err, shown);
  }
}

// mergedEntries lists top (when withTop) and what is below it in a merged view. Metadata is read
// through tree.atEntry, and content from the file resolved inside its layer and checked to be the
// inode the walk saw, so a path a container swaps for a symlink meanwhile cannot make it read a host file.
function* mergedEntries(tree: MergedTree, top: TreeEntry, rename: (path: string) => string, withTop: boolean): Generator<TarEntry> {
  const firstPathOfInode = new Map<string, string>();
  const described = (entry: TreeEntry): TarEntry | undefined => {
    const tarEntry = tree.atEntry(entry, (path) => toEntry(rename(entry.path), path, entry.stats, addon().llistxattr(path), firstPathOfInode));
    if (tarEntry?.kind !== 'file') return tarEntry;
    const root = entry.hostPath.slice(0, entry.hostPath.length - entry.path.length);
    return { ...tarEntry, source: undefined, pinned: { root, path: entry.path, dev: entry.stats.dev, ino: entry.stats.ino } };
  };
  function* below(dir: TreeEntry): Generator<TarEntry> {
    for (const child of tree.children(dir)) {
      const entry = described(child);
      if (entry) yield entry;
      if (child.stats.isDirectory()) yield* below(child);
    }
  }
  const first = withTop ? described(top) : undefined;
  if (first) yield first;
  if (top.stats.isDirectory()) yield* below(top);
}

/** digestLayerDir computes a layer directory's diffID and tar size without keeping the tar. */
export async function digestLayerDir(dir: string): Promise<LayerDigest> {
  const hash = crypto().createHash('sha256');
  let size = 0;
  for await (const chunk of tarChunks(walk(dirByPath(dir), '', new Map()))) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

async function* tarChunks(entries: Iterable<TarEntry>): AsyncGenerator<Buffer> {
  let count = 0;
  for (const entry of entries) {
    if (++count % YIELD_EVERY === 0) await nextTurn();
    yield encodeHeader(entry);
    const source = entry.pinned ?? entry.source;
    if (entry.kind === 'file' && source && entry.size > 0) {
      if (entry.size <= SMALL_FILE) yield readSmallFile(source, entry.size);
      else yield* fileChunks(source, entry.size);
      const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
      if (padding) yield Buffer.alloc(padding);
    }
  }
  // Two zero blocks end the archive (as Go's archive/tar writes it: no record padding).
  yield Buffer.alloc(2 * BLOCK);
}

/** LayerDir is a directory the walk reads: by path (a layer nothing writes to any
 * more), or through held fds (PinnedDir: an upper dir a running container changes). */
interface LayerDir {
  names(): string[];
  pathOf(name: string): string;
  child(name: string): LayerDir;
  close(): void;
}

function dirByPath(path: string): LayerDir {
  return {
    names: () => readdirSync(path).sort(byteOrder),
    pathOf: (name) => join(path, name),
    child: (name) => dirByPath(join(path, name)),
    close: () => {},
  };
}

// walk lists a layer dir: whiteouts and opaque markers as OCI `.wh.` entries.
// Entries are generated lazily, so tarChunks reads a file's content while its
// directory is still open (what a PinnedDir relies on).
function* walk(dir: LayerDir, rel: string, firstPathOfInode: Map<string, string>): Generator<TarEntry> {
  for (const name of dir.names()) {
    const relPath = rel ? `${rel}/${name}` : name;
    const hostPath = dir.pathOf(name);
    const st = lstatSync(hostPath);
    if (isWhiteout(st)) {
      // An overlay whiteout: this name was deleted from the layers below.
      yield { ...WHITEOUT, mtime: Math.floor(st.mtimeMs / 1000), name: rel ? `${rel}/.wh.${name}` : `.wh.${name}` };
      continue;
    }
    const xattrNames = addon().llistxattr(hostPath);
    const entry = toEntry(relPath, hostPath, st, xattrNames, firstPathOfInode);
    if (entry) yield entry;
    if (!st.isDirectory()) continue;
    const child = dir.child(name);
    try {
      if (xattrNames.includes(OVERLAY_OPAQUE) && isOpaqueDir(hostPath)) {
        yield { ...WHITEOUT, mtime: Math.floor(st.mtimeMs / 1000), name: `${relPath}/.wh..wh..opq` };
      }
      yield* walk(child, relPath, firstPathOfInode);
    } finally {
      child.close();
    }
  }
}

const WHITEOUT = { kind: 'file', mode: 0, uid: 0, gid: 0, size: 0 } as const;

// toEntry describes one file as a tar entry; undefined for sockets, which
// cannot be archived (tar implementations skip them too).
function toEntry(relPath: string, hostPath: string, st: Stats, xattrNames: string[], firstPathOfInode: Map<string, string>): TarEntry | undefined {
  const base = { name: relPath, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), mode: st.mode & 0o7777, xattrs: readXattrs(hostPath, xattrNames) };
  if (st.isDirectory()) return { ...base, name: `${relPath}/`, kind: 'dir', size: 0 };
  if (st.isFile()) {
    const inode = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? firstPathOfInode.get(inode) : undefined;
    if (first !== undefined) return { ...base, kind: 'hardlink', size: 0, linkname: first };
    if (st.nlink > 1) firstPathOfInode.set(inode, relPath);
    return { ...base, kind: 'file', size: st.size, source: hostPath };
  }
  if (st.isSymbolicLink()) return { ...base, kind: 'symlink', size: 0, linkname: readlinkSync(hostPath) };
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const [devmajor, devminor] = deviceNumbers(st.rdev);
    return { ...base, kind: st.isCharacterDevice() ? 'char' : 'block', size: 0, devmajor, devminor };
  }
  if (st.isFIFO()) return { ...base, kind: 'fifo', size: 0 };
  return undefined;
}

function readXattrs(path: string, listed: string[]): Map<string, Buffer> | undefined {
  const names = listed.filter(keepXattr).sort(byteOrder);
  if (names.length === 0) return undefined;
  const values = new Map<string, Buffer>();
  for (const name of names) {
    const value = addon().lgetxattr(path, name);
    if (value) values.set(name, value);
  }
  return values;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// openSource opens a file's content: a pinned one resolved in its root and checked to be that inode.
function openSource(source: string | PinnedSource): number {
  return typeof source === 'string' ? openSync(source, READ_NOFOLLOW) : addon().openFileInRoot(source.root, source.path, source.dev, source.ino);
}

function shown(source: string | PinnedSource): string {
  return typeof source === 'string' ? source : source.path;
}

function readSmallFile(source: string | PinnedSource, size: number): Buffer {
  const fd = openSource(source);
  let data: Buffer;
  try {
    data = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  // A file that changed size while being archived would corrupt the tar: fail instead.
  if (data.length !== size) throw new Error(`${shown(source)} changed size while being archived`);
  return data;
}

async function* fileChunks(source: string | PinnedSource, size: number): AsyncGenerator<Buffer> {
  const fd = openSource(source);
  try {
    let remaining = size;
    while (remaining > 0) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, remaining));
      const bytesRead = await readAt(fd, buffer, size - remaining);
      // A file that shrank while being archived would corrupt the tar: fail instead.
      if (bytesRead === 0) throw new Error(`${shown(source)} changed size while being archived`);
      remaining -= bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, buffer.length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))));
}

// encodeHeader writes a ustar header, preceded by a PAX header when a field
// does not fit ustar (long names, large ids or sizes, xattrs).
function encodeHeader(entry: TarEntry): Buffer {
  const records: Buffer[] = [];
  const name = Buffer.from(entry.name);
  const linkname = Buffer.from(entry.linkname ?? '');
  if (name.length > 100) records.push(paxRecord('path', name));
  if (linkname.length > 100) records.push(paxRecord('linkpath', linkname));
  if (entry.uid > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(entry.uid))));
  if (entry.gid > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(entry.gid))));
  if (entry.size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(entry.size))));
  for (const [key, value] of entry.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${key}`, value));
  const ustar = ustarHeader(entry, name.subarray(0, 100), linkname.subarray(0, 100));
  if (records.length === 0) return ustar;
  const body = Buffer.concat(records);
  const paxName = Buffer.from(`PaxHeaders.0/${entry.name.replace(/\/$/, '').split('/').pop() ?? ''}`).subarray(0, 100);
  const paxHeader = ustarHeader({ ...entry, kind: 'file', size: body.length, mode: 0o644, uid: 0, gid: 0 }, paxName, Buffer.alloc(0), 'x');
  const padding = Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK);
  return Buffer.concat([paxHeader, body, padding, ustar]);
}

// A PAX record is "LEN KEY=VALUE\n" where LEN counts the whole record in bytes, itself included.
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
  let length = rest + String(rest).length;
  if (String(length).length !== String(rest).length) length = rest + String(length).length;
  return Buffer.concat([Buffer.from(`${length} ${key}=`), value, Buffer.from('\n')]);
}

function ustarHeader(entry: TarEntry, name: Buffer, linkname: Buffer, typeflag = TYPEFLAG[entry.kind]): Buffer {
  const header = Buffer.alloc(BLOCK);
  name.copy(header, 0);
  octal(header, 100, 8, entry.mode);
  octal(header, 108, 8, Math.min(entry.uid, 0o7777777));
  octal(header, 116, 8, Math.min(entry.gid, 0o7777777));
  octal(header, 124, 12, entry.kind === 'file' || typeflag === 'x' ? Math.min(entry.size, 0o77777777777) : 0);
  octal(header, 136, 12, entry.mtime);
  header.write('        ', 148, 'latin1'); // checksum field counts as spaces while summing
  header.write(typeflag, 156, 'latin1');
  linkname.copy(header, 157);
  header.write('ustar\u000000', 257, 'latin1');
  if (entry.devmajor !== undefined) octal(header, 329, 8, entry.devmajor);
  if (entry.devminor !== undefined) octal(header, 337, 8, entry.devminor);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return header;
}

function octal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, 'latin1');
}
