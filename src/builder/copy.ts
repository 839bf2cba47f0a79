// COPY and ADD without a container: sources are resolved into a plan (every
// entry the new layer will hold, with final owner and mode), the plan is
// digested for the cache key, and only then written into an empty layer dir.
import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { NboxError } from '../errors';
import { readUserDatabase } from '../image/rootfs-file';
import { fetchRemoteSource, isRemoteSource, verifyFileChecksum } from './add-sources';
import { archiveCompression } from '../image/tar/archive';
import type { Compression } from '../image/tar/compression';
import { chownNeedsUserDb, parseChmod, resolveChown, type ChmodFn, type Owner } from './copy-modes';
import { selectParents } from './copy-parents';
import { selectSources, walkSelected, type Selected, type SourceTree, type Walked } from './copy-sources';
import { ignoreMatcher, parseDockerignore, type IgnoreMatcher } from './dockerignore';
import { cleanPath, hasWildcards } from './glob';
import { MergedTree, type TreeEntry } from '../image/merged-tree';
import { identity, SourceRoots, type FileIdentity } from './source-file';

export { applyCopy } from './copy-apply';
export { copyDigest } from './copy-digest';
export { resolveChown } from './copy-modes';

/** CopyRequest is one COPY/ADD instruction with its values already expanded. */
export interface CopyRequest {
  /** sources: paths (globs allowed), heredoc names, and for ADD http(s) and git URLs. */
  sources: string[];
  /** dest: ending in `/` names a directory; relative joins workdir. */
  dest: string;
  /** workdir: the image's WorkingDir ('/' when empty). */
  workdir: string;
  from: { kind: 'context'; dir: string; ignore: IgnoreMatcher } | { kind: 'rootfs'; layers: string[] };
  chown?: string;
  /** chmod: octal (0755) or symbolic (u=rwX,go=rX). */
  chmod?: string;
  /** isAdd: local tar archives are extracted and URLs downloaded. */
  isAdd: boolean;
  /** exclude: --exclude patterns, .dockerignore syntax, matched below each source. */
  exclude?: string[];
  /** heredocs: COPY <<EOF bodies; a source with one of these names is that body. */
  heredocs?: { name: string; content: string }[];
  /** parents: COPY --parents keeps each source's path below the root or its `/./` pivot. */
  parents?: boolean;
  /** checksum: ADD --checksum, for a single URL, git or local file source. */
  checksum?: string;
  /** unpack: ADD --unpack; true extracts downloaded archives, false keeps local ones as files. */
  unpack?: boolean;
  keepGitDir?: boolean;
  /** sshAgent: the `--ssh default` agent socket, for ADD of an ssh git URL. */
  sshAgent?: string;
  /** scratch: a directory that holds ADD's downloads and checkouts until the layer is written; needed for those sources. */
  scratch?: string;
  /** signal interrupts a download or checkout. */
  signal?: AbortSignal;
}

/** EntryKind is what a planned entry is on disk. */
export type EntryKind = 'dir' | 'file' | 'symlink' | 'hardlink' | 'special';

/** PlannedEntry is one entry the new layer will hold, with its final metadata. */
export interface PlannedEntry {
  /** path: in-root, absolute, clean, no symlink above it. */
  path: string;
  kind: EntryKind;
  /** origin: copied from a source; base mirrors a directory of the base image (overlay shows the upper copy's attributes); created is a missing parent. */
  origin: 'copied' | 'base' | 'created';
  /** hostPath: the host file whose data, link target or xattrs are copied. */
  hostPath?: string;
  /** seen: the source file as the plan found it; the copy refuses any other file at hostPath. */
  seen?: FileIdentity;
  /** content: generated file data (a heredoc). */
  content?: Buffer;
  /** mode: permission bits (07777). */
  mode: number;
  /** size: a regular file's length in bytes. */
  size?: number;
  /** typeBits: S_IFMT bits of a special file, with rdev its device number. */
  typeBits?: number;
  rdev?: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  /** target: a symlink's target, or the path of the first link of a hardlinked file. */
  target?: string;
  /** copyXattrs: the source's extended attributes come along (stage rootfs and base image entries, not the context). */
  copyXattrs: boolean;
}

/** PlannedArchive is a local tar that ADD extracts into destDir. */
export interface PlannedArchive {
  hostPath: string;
  /** seen: the archive as the plan found it in the context. */
  seen?: FileIdentity;
  compression: Compression;
  destDir: string;
  owner?: Owner;
}

/** CopyPlan is everything applyCopy writes, sorted so parents come first. */
export interface CopyPlan {
  entries: PlannedEntry[];
  archives: PlannedArchive[];
}

// Sources as they are after selection, in instruction order.
type Item =
  | { kind: 'content'; name: string; content: Buffer; mode: number; mtimeMs: number }
  | { kind: 'download'; name: string; hostPath: string; mtimeMs: number }
  | { kind: 'archive'; hostPath: string; compression: Compression }
  | { kind: 'tree'; selected: Selected; source: SourceTree; fromContext: boolean }
  | { kind: 'parents'; walked: Walked[]; fromContext: boolean };

const S_IFMT = 0o170000;

/** planCopy resolves a request against the base image's layers (topmost first): sources, destination, --chown and --chmod. */
export async function planCopy(req: CopyRequest, baseLayers: string[]): Promise<CopyPlan> {
  const verb = req.isAdd ? 'ADD' : 'COPY';
  const base = new MergedTree(baseLayers);
  const owner = req.chown === undefined ? undefined : await chownIds(req.chown, baseLayers);
  const chmod = req.chmod ? parseChmod(req.chmod) : undefined;
  const exclude = req.exclude?.length ? ignoreMatcher(parseDockerignore(req.exclude.join('\n'))) : undefined;
  if (req.checksum !== undefined && req.sources.length !== 1) throw new NboxError('ERR_NBOX_BUILD', `${verb} --checksum can't be specified for multiple sources`);

  const source: SourceTree =
    req.from.kind === 'context'
      ? { tree: new MergedTree([req.from.dir], { overlay: false }), ignore: req.from.ignore }
      : { tree: new MergedTree(req.from.layers) };
  const items = await selectItems(req, source, verb, exclude);

  const destText = req.dest.startsWith('/') ? req.dest : posix.join(req.workdir || '/', req.dest);
  const destPath = base.resolve(cleanPath(destText));
  // With --parents the destination is always the directory the kept paths go under.
  const namesDir = /(^|\/)\.{0,2}$/.test(req.dest) || destPath === '/' || req.parents === true;
  const destIsDir = namesDir || base.stat(destPath)?.stats.isDirectory() === true;
  if (items.length > 1 && !destIsDir) {
    throw new NboxError('ERR_NBOX_BUILD', `When using ${verb} with more than one source file, the destination must be a directory and end with a /`);
  }

  const plan = new PlanBuilder(base, owner, chmod, exclude);
  plan.ensureDir('/');
  for (const item of items) {
    if (item.kind === 'content') {
      plan.putFile(destIsDir ? join(destPath, item.name) : destPath, item);
      continue;
    }
    if (item.kind === 'download') {
      plan.putDownload(destIsDir ? join(destPath, item.name) : destPath, item);
      continue;
    }
    if (item.kind === 'archive') {
      plan.ensureDir(destPath);
      plan.archives.push({ hostPath: item.hostPath, compression: item.compression, destDir: destPath, owner });
      continue;
    }
    if (item.kind === 'parents') {
      plan.ensureDir(destPath);
      plan.putWalked(item.walked, destPath, item.fromContext);
      continue;
    }
    const { selected, fromContext } = item;
    if (exclude?.excludes(selected.rel)) continue;
    if (selected.entry.stats.isDirectory()) {
      plan.ensureDir(destPath);
      await plan.putTree(item.source, selected.entry, destPath, fromContext);
      continue;
    }
    // Only ADD of a context file extracts, and only when its bytes are a tar (and --unpack=false does not say otherwise).
    const extract = req.isAdd && req.unpack !== false && fromContext && selected.entry.stats.isFile();
    const compression = extract ? await readPlanned(selected.entry, archiveCompression) : null;
    if (compression) {
      plan.ensureDir(destPath);
      plan.archives.push({ hostPath: selected.entry.hostPath, seen: identity(selected.entry), compression, destDir: destPath, owner });
    } else {
      plan.putSource(destIsDir ? join(destPath, selected.name) : destPath, selected.entry, fromContext);
    }
  }
  return { entries: plan.sorted(), archives: plan.archives };
}

/** planWorkdir is the layer a WORKDIR makes when path (symlinks followed in-root) is missing from the base: it
 * and its missing parents, 0755 and owned by user (looked up as BuildKit's mkdir and COPY --chown do); null
 * when the directory exists. */
export async function planWorkdir(path: string, user: string, baseLayers: string[]): Promise<CopyPlan | null> {
  const base = new MergedTree(baseLayers);
  const dir = base.resolve(path);
  for (let at = dir; at !== '/'; at = posix.dirname(at)) {
    const entry = base.lstat(at);
    if (entry?.stats.isDirectory() && at === dir) return null;
    if (entry && !entry.stats.isDirectory()) throw new NboxError('ERR_NBOX_BUILD', `WORKDIR ${path}: ${at} is not a directory`);
  }
  if (dir === '/') return null;
  const plan = new PlanBuilder(base, user ? await chownIds(user, baseLayers) : undefined, undefined, undefined);
  plan.ensureDir(dir);
  // Only what is made belongs to the user: a scratch image's root stays root's.
  const entries = plan.sorted().map((entry) => (entry.path === '/' && entry.origin === 'created' ? { ...entry, uid: 0, gid: 0 } : entry));
  return { entries, archives: [] };
}

async function chownIds(spec: string, baseLayers: string[]): Promise<Owner> {
  if (!chownNeedsUserDb(spec)) return resolveChown(spec, null, null);
  const { passwd, group } = await readUserDatabase(baseLayers);
  return resolveChown(spec, passwd, group);
}

async function selectItems(req: CopyRequest, source: SourceTree, verb: string, exclude: IgnoreMatcher | undefined): Promise<Item[]> {
  const items: Item[] = [];
  const fromContext = req.from.kind === 'context';
  for (const src of req.sources) {
    const heredoc = req.heredocs?.find((candidate) => candidate.name === src);
    if (heredoc) {
      items.push({ kind: 'content', name: heredoc.name, content: Buffer.from(heredoc.content), mode: 0o644, mtimeMs: Date.now() });
      continue;
    }
    if (req.isAdd && isRemoteSource(src)) {
      items.push(await remoteItem(req, src));
      continue;
    }
    if (req.parents) {
      const walked = await selectParents(source, src, exclude);
      if (walked.length === 0 && !hasWildcards(src)) throw notFound(verb, src, fromContext);
      items.push({ kind: 'parents', walked, fromContext });
      continue;
    }
    const selected = selectSources(source, src);
    // An unmatched wildcard copies nothing, as BuildKit allows.
    if (selected.length === 0 && !hasWildcards(src)) throw notFound(verb, src, fromContext);
    if (req.checksum !== undefined) await verifyLocalChecksum(req.checksum, src, selected);
    for (const match of selected) items.push({ kind: 'tree', selected: match, source, fromContext });
  }
  return items;
}

// remoteItem fetches an ADD URL or git source; a checkout is copied as a directory of the context would be.
async function remoteItem(req: CopyRequest, src: string): Promise<Item> {
  if (!req.scratch) throw new NboxError('ERR_NBOX_BUILD', `ADD ${src}: no scratch directory for fetched sources`);
  const fetched = await fetchRemoteSource(src, { checksum: req.checksum, unpack: req.unpack, keepGitDir: req.keepGitDir, sshAgent: req.sshAgent, scratch: req.scratch, signal: req.signal });
  if (fetched.kind === 'file') return { kind: 'download', name: fetched.name, hostPath: fetched.hostPath, mtimeMs: fetched.mtimeMs };
  if (fetched.kind === 'archive') return fetched;
  const tree = new MergedTree([fetched.dir], { overlay: false });
  const root = tree.stat('/')!;
  return { kind: 'tree', selected: { entry: root, name: '', rel: '' }, source: { tree }, fromContext: true };
}

async function verifyLocalChecksum(checksum: string, src: string, selected: Selected[]): Promise<void> {
  if (selected.length !== 1 || !selected[0].entry.stats.isFile()) {
    throw new NboxError('ERR_NBOX_BUILD', `ADD --checksum needs a single file: ${src} is not one`);
  }
  await readPlanned(selected[0].entry, (path) => verifyFileChecksum(checksum, path, src));
}

// readPlanned reads a planned source file through a path to the very file the plan saw, opened inside its root:
// its host path may lead elsewhere by now (a context file swapped for a symlink, a FIFO).
async function readPlanned<T>(entry: TreeEntry, read: (path: string) => Promise<T>): Promise<T> {
  const sources = new SourceRoots();
  try {
    const source = sources.open(entry.hostPath, identity(entry));
    try {
      return await read(source.path);
    } finally {
      source.close();
    }
  } finally {
    sources.close();
  }
}

function notFound(verb: string, src: string, fromContext: boolean): NboxError {
  const where = fromContext ? 'build context or excluded by .dockerignore' : 'source image or stage';
  return new NboxError('ERR_NBOX_BUILD', `${verb} failed: file not found in ${where}: stat ${src}: file does not exist`);
}

function join(dir: string, name: string): string {
  if (name === '' || name === '/') throw new NboxError('ERR_NBOX_BUILD', `cannot determine a file name to copy into ${dir}`);
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

// PlanBuilder collects entries by path, applying Docker's collision rules
// against earlier sources and against the base image.
class PlanBuilder {
  readonly archives: PlannedArchive[] = [];
  private readonly entries = new Map<string, PlannedEntry>();
  // Base directories seen so far: path -> their children by name.
  private readonly baseChildren = new Map<string, Map<string, TreeEntry>>();
  private readonly now = Date.now();

  constructor(
    private readonly base: MergedTree,
    private readonly owner: Owner | undefined,
    private readonly chmod: ChmodFn | undefined,
    private readonly exclude: IgnoreMatcher | undefined,
  ) {}

  /** ensureDir makes path and its parents directories: mirrored from the base when they exist there, else created 0755. */
  ensureDir(path: string): void {
    const names = path === '/' ? [] : path.slice(1).split('/');
    for (let depth = 0; depth <= names.length; depth++) {
      const dirPath = `/${names.slice(0, depth).join('/')}`;
      const existing = this.entries.get(dirPath);
      if (existing) {
        if (existing.kind !== 'dir') throw new NboxError('ERR_NBOX_BUILD', `cannot copy to non-directory: ${dirPath}`);
        continue;
      }
      const inBase = this.base.lstat(dirPath);
      if (inBase && !inBase.stats.isDirectory()) throw new NboxError('ERR_NBOX_BUILD', `cannot copy to non-directory: ${dirPath}`);
      if (inBase) this.rememberBaseDir(inBase);
      const { uid, gid } = inBase ? inBase.stats : (this.owner ?? { uid: 0, gid: 0 });
      this.entries.set(dirPath, {
        path: dirPath,
        kind: 'dir',
        origin: inBase ? 'base' : 'created',
        hostPath: inBase?.hostPath,
        mode: inBase ? inBase.stats.mode & 0o7777 : 0o755,
        uid,
        gid,
        mtimeMs: inBase ? inBase.stats.mtimeMs : this.now,
        copyXattrs: inBase !== null,
      });
    }
  }

  /** putFile adds generated content as a regular file. */
  putFile(path: string, item: { content: Buffer; mode: number; mtimeMs: number }): void {
    this.ensureDir(posix.dirname(path));
    const { uid, gid } = this.owner ?? { uid: 0, gid: 0 };
    const mode = this.chmod ? this.chmod(item.mode, false) : item.mode;
    this.put({ path, kind: 'file', origin: 'copied', content: item.content, mode, uid, gid, mtimeMs: item.mtimeMs, copyXattrs: false });
  }

  /** putDownload adds a file ADD downloaded (into its scratch directory) at path: mode 0600, as BuildKit's. */
  putDownload(path: string, item: { hostPath: string; mtimeMs: number }): void {
    this.ensureDir(posix.dirname(path));
    const { uid, gid } = this.owner ?? { uid: 0, gid: 0 };
    const stats = lstatSync(item.hostPath);
    const seen = { dev: stats.dev, ino: stats.ino, root: posix.dirname(item.hostPath), path: `/${posix.basename(item.hostPath)}` };
    const mode = this.chmod ? this.chmod(0o600, false) : 0o600;
    this.put({ path, kind: 'file', origin: 'copied', hostPath: item.hostPath, seen, size: stats.size, mode, uid, gid, mtimeMs: item.mtimeMs, copyXattrs: false });
  }

  /** putSource adds one selected non-directory at path. */
  putSource(path: string, entry: TreeEntry, fromContext: boolean): void {
    this.ensureDir(posix.dirname(path));
    this.put(this.fromSource(path, entry, fromContext));
  }

  /** putTree adds everything below a selected directory under destDir, keeping hardlinks within it. */
  async putTree(source: SourceTree, dir: TreeEntry, destDir: string, fromContext: boolean): Promise<void> {
    this.putWalked(await walkSelected(source, dir, this.exclude), destDir, fromContext);
  }

  /** putWalked adds walked entries (parents first) at their paths below destDir, keeping hardlinks among them. */
  putWalked(walked: Walked[], destDir: string, fromContext: boolean): void {
    const firstLinks = new Map<string, string>();
    for (const { entry, rel } of walked) {
      const path = destDir === '/' ? `/${rel}` : `${destDir}/${rel}`;
      const planned = this.fromSource(path, entry, fromContext);
      if (planned.kind === 'file' && entry.stats.nlink > 1) {
        const inode = `${entry.stats.dev}:${entry.stats.ino}`;
        const first = firstLinks.get(inode);
        if (first === undefined) firstLinks.set(inode, path);
        else Object.assign(planned, { kind: 'hardlink', target: first, hostPath: undefined, seen: undefined });
      }
      this.put(planned);
    }
  }

  /** sorted returns the entries with every directory before what it holds. */
  sorted(): PlannedEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private fromSource(path: string, entry: TreeEntry, fromContext: boolean): PlannedEntry {
    const { stats } = entry;
    const kind: EntryKind = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'special';
    const bits = stats.mode & 0o7777;
    const { uid, gid } = this.owner ?? (fromContext ? { uid: 0, gid: 0 } : stats);
    const planned: PlannedEntry = {
      path,
      kind,
      origin: 'copied',
      hostPath: entry.hostPath,
      // A symlink's own mode is always 0777 and cannot be changed.
      mode: this.chmod && kind !== 'symlink' ? this.chmod(bits, kind === 'dir') : bits,
      uid,
      gid,
      mtimeMs: stats.mtimeMs,
      copyXattrs: !fromContext,
    };
    if (kind === 'file') Object.assign(planned, { size: stats.size, seen: identity(entry) });
    if (kind === 'symlink') planned.target = readlinkSync(entry.hostPath);
    if (kind === 'special') Object.assign(planned, { typeBits: stats.mode & S_IFMT, rdev: stats.rdev });
    return planned;
  }

  // put records an entry; a later source replaces an earlier non-directory,
  // directories merge, and a file and a directory never replace each other.
  private put(entry: PlannedEntry): void {
    const planned = this.entries.get(entry.path);
    const inBase = this.baseEntry(entry.path);
    const existingIsDir = planned ? planned.kind === 'dir' : inBase?.stats.isDirectory() === true;
    const existingIsOther = planned ? planned.kind !== 'dir' : inBase !== undefined && !inBase.stats.isDirectory();
    if (existingIsDir && entry.kind !== 'dir') throw new NboxError('ERR_NBOX_BUILD', `cannot replace to directory ${entry.path} with file`);
    // A base symlink is not followed here: BuildKit refuses to merge a directory into it.
    if (existingIsOther && entry.kind === 'dir') throw new NboxError('ERR_NBOX_BUILD', `cannot copy to non-directory: ${entry.path}`);
    if (entry.kind === 'dir' && inBase) this.rememberBaseDir(inBase);
    this.entries.set(entry.path, entry);
  }

  // baseEntry finds path in the base image when its parent is a base directory
  // already seen; below a directory new to the image there is nothing to find.
  private baseEntry(path: string): TreeEntry | undefined {
    const parent = posix.dirname(path);
    return this.baseChildren.get(parent)?.get(posix.basename(path));
  }

  private rememberBaseDir(dir: TreeEntry): void {
    if (this.baseChildren.has(dir.path)) return;
    const children = new Map<string, TreeEntry>();
    for (const child of this.base.children(dir)) children.set(posix.basename(child.path), child);
    this.baseChildren.set(dir.path, children);
  }
}
