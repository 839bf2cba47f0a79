// The store root itself: which directory may be one, its version mark, and its
// modes. A root that is not a store is refused before anything in it is swept,
// and the store is root's alone: its layers and container upper dirs hold setuid
// files and device nodes that an unprivileged user must not reach
// (CVE-2021-41091 in Docker). Nothing outside the store needs a path into it:
// containers see their layers through mounts nbox makes, so 0700 throughout.
// Its calls are synchronous: every command opens the store first, and a few
// local stats and mkdirs cost less than as many trips through the thread pool.
// Named imports: a namespace import of node:fs makes the bundle copy its hundred exports at load.
import { chmodSync, mkdirSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { NboxError, isErrno } from '../errors';

/** STORE_MODE is the mode of the store root and of every directory of its layout. */
export const STORE_MODE = 0o700;

/** STORE_DIRS are the directories of a store's layout (cache-mounts: the builder's RUN cache mounts; volumes: named and anonymous volumes; cache: derived data, such as compiled seccomp programs; networks: user networks). */
export const STORE_DIRS = ['tmp', 'layers', 'images', 'containers', 'names', 'buildcache', 'cache-mounts', 'volumes', 'cache', 'networks'] as const;

/** STORE_LOCKS are the lock files of a store's layout. */
export const STORE_LOCKS = ['lock', 'gc.lock'] as const;

/** VERSION_FILE marks a directory as an nbox store of layout VERSION. */
export const VERSION_FILE = 'version';
const VERSION = 1;
/** VERSION_TEXT is what the version file of this nbox's stores holds. */
export const VERSION_TEXT = `nbox store ${VERSION}\n`;
const versionPattern = /^nbox store (\d+)\n$/;

// Filesystems whose directories are kernel interfaces, not storage: a store on
// one cannot work, and making directories there can hang (procfs answers ENOENT
// to mkdir under an existing directory, so a recursive mkdir retries forever) or
// act (a directory made in cgroupfs is a cgroup). statfs(2) f_type magics.
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'], [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'], [0x62656570, 'configfs'], [0xde5e81e4, 'efivarfs'], [0xf97cff8c, 'selinuxfs'],
  [0x43415d53, 'smackfs'], [0x42494e4d, 'binfmt_misc'], [0x65735543, 'fusectl'], [0x19800202, 'mqueue'],
  [0x6e736673, 'nsfs'], [0x958458f6, 'hugetlbfs'],
]);

// An unmarked directory holding only these is a store of the layout before the
// version file (or one whose first open was killed): it is adopted and marked.
// lost+found is what a filesystem made for the store starts with.
const ADOPTABLE = new Set<string>([...STORE_DIRS, ...STORE_LOCKS, 'lost+found']);

/** StoreRootState is what open found: a marked store, or a directory to make one in. */
export type StoreRootState = 'marked' | 'unmarked';

/** prepareStoreRoot checks that root can be (or is) a store, creates it with mode 0700 if missing,
 * and returns its absolute path and whether it is marked yet. It changes nothing in a directory it refuses. */
export function prepareStoreRoot(root: string): { dir: string; state: StoreRootState } {
  if (root === '') {
    throw new NboxError('ERR_NBOX_USAGE', 'the store root is empty: set NBOX_ROOT or --root to a directory, or unset it for /var/lib/nbox');
  }
  const dir = resolve(root);
  refusePseudoFilesystem(dir);
  // A stat first, as ensureStoreDirectory: an existing store (every open) costs no mkdir exception.
  if (statSync(dir, { throwIfNoEntry: false }) === undefined && makeDirectory(dir, STORE_MODE)) return { dir, state: 'unmarked' };
  const stats = statSync(dir);
  if (!stats.isDirectory()) throw notAStore(dir, 'it is not a directory');
  const version = readVersion(dir);
  if (version === VERSION) return { dir, state: 'marked' };
  if (version !== undefined) throw notAStore(dir, `its ${VERSION_FILE} file says layout ${version}, and this nbox knows layout ${VERSION}`);
  const entries = readdirSync(dir).sort();
  const foreign = entries.find((name) => !ADOPTABLE.has(name));
  if (foreign !== undefined) throw notAStore(dir, `it holds ${JSON.stringify(foreign)} and no ${VERSION_FILE} file; give an empty or new directory`);
  return { dir, state: 'unmarked' };
}

/** restrictMode makes dir mode 0700 unless it is already: an existing store's directories may be 0755. */
export function restrictMode(dir: string): void {
  const stats = statSync(dir);
  if ((stats.mode & 0o7777) !== STORE_MODE) chmodSync(dir, STORE_MODE);
}

/** ensureStoreDirectory makes a store directory if it is missing, else gives it the store's mode
 * (restrictMode). A stat first: a mkdir that fails with EEXIST costs Node an exception, 0.4 ms of every
 * store open for its dozen directories. */
export function ensureStoreDirectory(dir: string): void {
  if (statSync(dir, { throwIfNoEntry: false }) === undefined && makeDirectory(dir, STORE_MODE)) return;
  restrictMode(dir);
}

/** makeDirectory makes dir with mode (and its missing parents, 0755); false if it exists.
 * Each level is tried at most twice, so a filesystem that refuses a mkdir ends the walk. */
export function makeDirectory(dir: string, mode: number): boolean {
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(dir, { mode });
      return true;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      const parent = dirname(dir);
      if (!isErrno(err, 'ENOENT') || parent === dir || attempt > 0) throw cannotCreate(dir, err);
      makeDirectory(parent, 0o755);
    }
  }
}

function readVersion(dir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, VERSION_FILE), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const match = versionPattern.exec(text);
  if (!match) throw notAStore(dir, `its ${VERSION_FILE} file is not an nbox store's`);
  return Number(match[1]);
}

// refusePseudoFilesystem looks at the filesystem of dir, or of its nearest existing ancestor.
function refusePseudoFilesystem(dir: string): void {
  for (let at = dir; ; at = dirname(at)) {
    try {
      const { type } = statfsSync(at);
      const name = PSEUDO_FILESYSTEMS.get(type);
      if (name) throw new NboxError('ERR_NBOX_STORE', `cannot keep a store in ${dir}: it is on ${name}, which cannot hold one`);
      return;
    } catch (err) {
      if (!isErrno(err, 'ENOENT') || at === '/') throw err instanceof NboxError ? err : cannotCreate(dir, err);
    }
  }
}

function notAStore(dir: string, why: string): NboxError {
  return new NboxError('ERR_NBOX_STORE', `${dir} is not an nbox store: ${why}`);
}

function cannotCreate(dir: string, err: unknown): NboxError {
  return new NboxError('ERR_NBOX_STORE', `cannot create the store root ${dir}: ${(err as Error).message}`, { cause: err });
}
