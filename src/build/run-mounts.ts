// RUN --mount: what each mount type becomes for the step's container.
// cache: a directory in the store kept across builds (seeded from a stage or
// image with from=); bind: a directory of the context, a stage or an image
// (read-only, or a throwaway copy with rw); tmpfs; secret: a file or an
// environment variable from `--secret`. Nothing mounted reaches the layer.
import { createHash } from 'node:crypto';
import { cp, mkdir, open, readFile, realpath, rename, stat } from 'node:fs/promises';
import { chownSync, chmodSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { NboxError, isErrno } from '../errors';
import type { BindMount as BindMountSpec, CacheMount, RunMount } from '../dockerfile/run-mount';
import type { Store } from '../image/store';
import { addon, type BindMount } from '../sys/addon';
import { cleanPath } from './glob';
import { materializeRootfsPath } from './rootfs-view';

/** RootfsSource is the filesystem of a stage or image a mount's from= names. */
export interface RootfsSource {
  /** imageId: the stage's or image's ID ('' for an empty scratch stage). */
  imageId: string;
  /** layers: its layer dirs, topmost first. */
  layers: string[];
}

/** MountSources are where mounts take their content from. */
export interface MountSources {
  contextDir: string;
  /** Build secrets by id: a host file path. */
  secrets: Map<string, string>;
  /** The stages and images mounts name in from=, already resolved, by that name. */
  from: Map<string, RootfsSource>;
  /** A private temp dir in the store for this step (rw copies and views of stages live there). */
  scratch: string;
}

/** PreparedMounts are a step's extra mounts and env, and what to release after it. */
export interface PreparedMounts {
  mounts: BindMount[];
  env: string[];
  /** In-container paths the mounts cover: the stubs made for them are removed from the layer. */
  targets: string[];
  release(): Promise<void>;
}

/** prepareRunMounts resolves a RUN's (expanded) mounts against the store, context and secrets. */
export async function prepareRunMounts(store: Store, runMounts: RunMount[], sources: MountSources): Promise<PreparedMounts> {
  const mounts: BindMount[] = [];
  const env: string[] = [];
  const locks: Array<() => Promise<void>> = [];
  const release = async () => {
    for (const unlock of locks) await unlock();
  };
  try {
    for (const mount of runMounts) {
      switch (mount.type) {
        case 'cache': {
          const dir = await cacheDir(store, mount, mount.from === undefined ? undefined : sources.from.get(mount.from)!);
          // `locked` lets one step at a time use the cache (apt's lists, for one).
          if (mount.sharing === 'locked') locks.push(await lockExclusive(`${dir}.lock`));
          mounts.push({ source: dir, target: mount.target, readonly: mount.readOnly, isFile: false });
          break;
        }
        case 'bind': {
          const scratch = join(sources.scratch, `bind-${mounts.length}`);
          mounts.push(mount.from === undefined
            ? await contextBind(mount, sources.contextDir, scratch)
            : await rootfsBind(mount, sources.from.get(mount.from)!, scratch));
          break;
        }
        case 'tmpfs':
          mounts.push({ source: '', tmpfs: mount.sizeBytes ? `mode=1777,size=${mount.sizeBytes}` : 'mode=1777', target: mount.target, readonly: false, isFile: false });
          break;
        case 'secret': {
          const id = mount.id ?? (mount.target ? basename(mount.target) : undefined);
          if (!id) throw new NboxError('ERR_NBOX_BUILD', 'secret mount needs an id or a target');
          const file = sources.secrets.get(id);
          if (!file) {
            if (mount.required) throw new NboxError('ERR_NBOX_BUILD', `secret ${id}: not provided (use --secret id=${id},src=FILE)`);
            break;
          }
          if (mount.env) env.push(`${mount.env}=${(await readFile(file, 'utf8')).replace(/\n$/, '')}`);
          if (mount.target || !mount.env) mounts.push({ source: file, target: mount.target ?? `/run/secrets/${id}`, readonly: true, isFile: true });
          break;
        }
        case 'ssh':
          unsupported('type=ssh');
      }
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { mounts, env, targets: mounts.map((m) => m.target), release };
}

function unsupported(what: string): never {
  throw new NboxError('ERR_NBOX_BUILD', `RUN --mount=${what} is not supported yet`);
}

// contextBind shows a path of the context; scratch receives the copy a rw bind writes to.
async function contextBind(mount: BindMountSpec, contextDir: string, scratch: string): Promise<BindMount> {
  const relative = cleanPath(`/${mount.source ?? '.'}`);
  const hostPath = join(contextDir, relative);
  const notFound = () => new NboxError('ERR_NBOX_BUILD', `failed to compute cache key: "${relative}" not found in the build context`);
  const st = await stat(hostPath).catch(() => {
    throw notFound();
  });
  // A symlink in the context must not lend the step a host directory.
  const [real, root] = await Promise.all([realpath(hostPath), realpath(contextDir)]);
  if (real !== root && !real.startsWith(`${root}/`)) throw notFound();
  let source = hostPath;
  if (!mount.readOnly) {
    // BuildKit discards a rw bind's writes: the step writes to a copy.
    source = scratch;
    await cp(hostPath, source, { recursive: true, preserveTimestamps: true });
  }
  return { source, target: mount.target, readonly: mount.readOnly, isFile: !st.isDirectory() };
}

// rootfsBind shows a path of a stage or image: linked for a read-only bind, copied for rw.
async function rootfsBind(mount: BindMountSpec, from: RootfsSource, scratch: string): Promise<BindMount> {
  const view = await materializeRootfsPath(from.layers, mount.source ?? '/', scratch, { writable: !mount.readOnly, shown: `mount from=${mount.from}` });
  return { source: view.hostPath, target: mount.target, readonly: mount.readOnly, isFile: view.isFile };
}

// cacheDir is the cache's directory, made on first use: empty (with mode and
// owner as given) or, with from=, a copy of that stage's source path. A cache
// seeded from a stage belongs to that stage's image: a new image, a new cache,
// as BuildKit keys it. Without from=, source= is a subdirectory of the cache.
async function cacheDir(store: Store, mount: CacheMount, from: RootfsSource | undefined): Promise<string> {
  const id = mount.id ?? mount.target;
  const source = cleanPath(`/${mount.source ?? '/'}`);
  const key = from ? JSON.stringify([id, from.imageId, source]) : id;
  const dir = join(store.root, 'cache-mounts', createHash('sha256').update(key).digest('hex'));
  if (from) {
    await seedCacheDir(store, dir, from, source, mount.from!);
    return dir;
  }
  await ensureCacheDir(dir, mount.mode ?? 0o755, mount.uid ?? 0, mount.gid ?? 0);
  if (source === '/') return dir;
  await mkdir(join(dir, source), { recursive: true });
  return join(dir, source);
}

// seedCacheDir copies the source into a temp dir and renames it into place, so
// a killed build never leaves a half-seeded cache; a concurrent seeder may win.
async function seedCacheDir(store: Store, dir: string, from: RootfsSource, source: string, fromName: string): Promise<void> {
  if (await stat(dir).then(() => true, () => false)) return;
  const temp = await store.makeTempDir('cache-seed');
  try {
    const view = await materializeRootfsPath(from.layers, source, join(temp, 'tree'), { writable: true, shown: `mount from=${fromName}` });
    if (view.isFile) throw new NboxError('ERR_NBOX_BUILD', `cache mount source "${source}" of from=${fromName} is not a directory`);
    await mkdir(join(dir, '..'), { recursive: true });
    await rename(view.hostPath, dir).catch((err: unknown) => {
      if (!isErrno(err, 'EEXIST') && !isErrno(err, 'ENOTEMPTY')) throw err;
    });
  } finally {
    await store.removeTree(temp);
  }
}

async function ensureCacheDir(dir: string, mode: number, uid: number, gid: number): Promise<void> {
  await mkdir(join(dir, '..'), { recursive: true });
  try {
    await mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  chmodSync(dir, mode);
  chownSync(dir, uid, gid);
}

async function lockExclusive(path: string): Promise<() => Promise<void>> {
  const handle = await open(path, 'a');
  for (let delay = 2; !addon().tryLock(handle.fd, true); delay = Math.min(delay * 2, 50)) await sleep(delay);
  return () => handle.close();
}
