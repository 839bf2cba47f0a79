// RUN --mount: what each mount type becomes for the step's container.
// cache: a directory in the store kept across builds (seeded from a stage or
// image with from=); bind: a directory of the context, a stage or an image
// (read-only, or a throwaway copy with rw); tmpfs; secret: a file or an
// environment variable from `--secret`; ssh: a socket forwarded to an agent
// from `--ssh`. Nothing mounted reaches the layer.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { chownSync, chmodSync, closeSync, fstatSync } from 'node:fs';
import { basename, join, posix } from 'node:path';

import { NboxError, SysError, isErrno } from '../errors';
import type { BindMount as BindMountSpec, CacheMount, RunMount, SshMount } from '../dockerfile/run-mount';
import { MergedTree } from '../image/merged-tree';
import type { Store } from '../image/store';
import { openInRoot } from '../image/fs-calls';
import type { BindMount } from '../runtime/launch';
import { copyDigest, planCopy } from './copy';
import { selectSources } from './copy-sources';
import type { IgnoreMatcher } from './dockerignore';
import { cleanPath } from './glob';
import { materializePath, materializeRootfsPath, type RootfsView } from './rootfs-view';
import { forwardSshAgent } from './ssh-forward';

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
  /** SSH agents by id: a host agent socket. */
  sshAgents: Map<string, string>;
  /** The step's environment, which mounts may add to. */
  env: string[];
  /** The context's .dockerignore: a writable bind of the context copies what it leaves. */
  ignore: IgnoreMatcher;
  /** The stages and images mounts name in from=, already resolved, by that name. */
  from: Map<string, RootfsSource>;
  /** A private temp dir in the store for this step (rw copies and views of stages live there). */
  scratch: string;
}

/** PreparedMounts are a step's extra mounts, its env with theirs, and what to release after it. */
export interface PreparedMounts {
  mounts: BindMount[];
  env: string[];
  /** In-container paths the mounts cover: the stubs made for them are removed from the layer. */
  targets: string[];
  release(): Promise<void>;
}

/** checkSecretFiles fails a build before it starts when a --secret file is
 * missing or not a file, as BuildKit does, naming the path; a build that never
 * mounts the secret would otherwise succeed on a typo. */
export async function checkSecretFiles(secrets: Map<string, string>): Promise<void> {
  for (const [id, file] of secrets) {
    const st = await stat(file).catch((err: unknown) => {
      const reason = isErrno(err, 'ENOENT') ? 'no such file or directory' : (err as Error).message;
      throw new NboxError('ERR_NBOX_BUILD', `secret ${id}: open ${file}: ${reason}`);
    });
    if (!st.isFile()) throw new NboxError('ERR_NBOX_BUILD', `secret ${id}: ${file} is not a file`);
  }
}

/** prepareRunMounts resolves a RUN's (expanded) mounts against the store, context and secrets. */
export async function prepareRunMounts(store: Store, runMounts: RunMount[], sources: MountSources): Promise<PreparedMounts> {
  const mounts: BindMount[] = [];
  const env = [...sources.env];
  // Cache locks held, agent forwards running and bind sources open until the step ends.
  const held: Array<() => Promise<void>> = [];
  // bindInRoot binds what path resolves to inside root (never a symlink out of it) by its fd.
  const bindInRoot = (root: string, path: string, opts: { mkdir?: boolean }, target: string, readonly: boolean): BindMount => {
    const fd = openInRoot(root, path, opts);
    held.push(async () => closeSync(fd));
    return { source: join(root, path), sourceFd: fd, target, readonly, isFile: !fstatSync(fd).isDirectory() };
  };
  const release = async () => {
    for (const free of held) await free();
  };
  const sshMounts = runMounts.filter((mount) => mount.type === 'ssh');
  const sshTarget = (mount: SshMount) => mount.target || `/run/buildkit/ssh_agent.${sshMounts.indexOf(mount)}`;
  // As BuildKit, the first ssh mount's socket is SSH_AUTH_SOCK unless the image sets it, mounted or not.
  if (sshMounts.length > 0 && !env.some((pair) => pair.startsWith('SSH_AUTH_SOCK='))) env.push(`SSH_AUTH_SOCK=${sshTarget(sshMounts[0])}`);
  try {
    for (const mount of runMounts) {
      switch (mount.type) {
        case 'cache': {
          const from = mount.from === undefined ? undefined : sources.from.get(mount.from)!;
          const dir = await cacheDir(store, mount, from);
          // `locked` lets one step at a time use the cache (apt's lists, for one).
          if (mount.sharing === 'locked') held.push(await store.root.lock(`${dir}.lock`));
          // Without from=, source= is a directory inside the cache: what an earlier step left there is hostile.
          const inCache = from ? '.' : cleanPath(mount.source ?? '.');
          mounts.push(inCacheDir(() => bindInRoot(dir, inCache, { mkdir: true }, mount.target, mount.readOnly), inCache));
          break;
        }
        case 'bind': {
          const scratch = join(sources.scratch, `bind-${mounts.length}`);
          // The context directory itself, when .dockerignore leaves it whole; else a view of what it leaves.
          if (mount.from === undefined && mount.readOnly && sources.ignore.excludesNothing) {
            mounts.push(contextPath(() => bindInRoot(sources.contextDir, cleanPath(mount.source ?? '.'), {}, mount.target, true), mount));
            break;
          }
          const view = mount.from === undefined
            ? await materializePath({ kind: 'context', dir: sources.contextDir, ignore: sources.ignore }, mount.source ?? '.', scratch, { writable: true, shown: 'the build context' })
            : await materializeRootfsPath(sources.from.get(mount.from)!.layers, mount.source ?? '/', scratch, { writable: !mount.readOnly, shown: `mount from=${mount.from}` });
          mounts.push(bindInRoot(scratch, viewPath(view), {}, mount.target, mount.readOnly));
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
        case 'ssh': {
          const id = mount.id ?? 'default';
          const agent = sources.sshAgents.get(id);
          if (!agent) {
            if (mount.required) throw new NboxError('ERR_NBOX_BUILD', `ssh ${id}: no SSH agent given (use --ssh ${id}[=SOCKET])`);
            break;
          }
          const socket = join(sources.scratch, `ssh-${mounts.length}`);
          const forward = await forwardSshAgent(id, agent, socket, { mode: mount.mode ?? 0o600, uid: mount.uid ?? 0, gid: mount.gid ?? 0 });
          held.push(forward.close);
          mounts.push({ source: socket, target: sshTarget(mount), readonly: false, isFile: true });
          break;
        }
      }
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { mounts, env, targets: mounts.map((m) => m.target), release };
}

/** mountKeyInputs are what a RUN's mounts add to its cache key, as BuildKit keys them: the mounts
 * as written, the images from= names, and the content digest of what each bind from the context
 * shows (after .dockerignore); not a cache's contents, nor secrets or agents. */
export async function mountKeyInputs(runMounts: RunMount[], from: Map<string, RootfsSource>, contextDir: string, ignore: IgnoreMatcher): Promise<string[]> {
  const inputs = [JSON.stringify(runMounts), ...[...from].map(([name, source]) => `${name}=${source.imageId}`)];
  const tree = new MergedTree([contextDir], { overlay: false });
  for (const mount of runMounts) {
    if (mount.type !== 'bind' || mount.from !== undefined) continue;
    const relative = cleanPath(`/${mount.source ?? '.'}`);
    // A path .dockerignore leaves out is not in the context BuildKit sees.
    if (selectSources({ tree, ignore }, relative).length === 0) throw bindNotFound(relative);
    const plan = await planCopy({ sources: [relative], dest: '/', workdir: '/', from: { kind: 'context', dir: contextDir, ignore }, isAdd: false }, []);
    inputs.push(await copyDigest(plan));
  }
  return inputs;
}

function bindNotFound(relative: string): NboxError {
  return new NboxError('ERR_NBOX_BUILD', `failed to compute cache key: "${relative}" not found in the build context`);
}

// contextPath opens a context bind's source: missing there (its symlinks resolve inside the context) is the key's error.
function contextPath(open: () => BindMount, mount: BindMountSpec): BindMount {
  try {
    return open();
  } catch (err) {
    if (err instanceof SysError && (err.errnoName === 'ENOENT' || err.errnoName === 'ENOTDIR')) throw bindNotFound(cleanPath(`/${mount.source ?? '.'}`));
    throw err;
  }
}

// inCacheDir opens a cache's source= directory, made when missing; a file or a dangling link there is an error.
function inCacheDir(open: () => BindMount, source: string): BindMount {
  try {
    return open();
  } catch (err) {
    if (err instanceof SysError && ['ENOENT', 'ENOTDIR', 'ELOOP', 'EXDEV'].includes(err.errnoName)) {
      throw new NboxError('ERR_NBOX_BUILD', `cache mount source "${source}": ${err.errnoName === 'ENOTDIR' ? 'not a directory' : 'cannot be made inside the cache'}`, { cause: err });
    }
    throw err;
  }
}

// viewPath is where a materialised view is inside the scratch dir it was written to.
function viewPath(view: RootfsView): string {
  return view.isFile ? posix.basename(view.hostPath) : '.';
}

// cacheDir is the cache's directory, made on first use: empty (with mode and
// owner as given) or, with from=, a copy of that stage's source path. A cache
// seeded from a stage belongs to that stage's image: a new image, a new cache,
// as BuildKit keys it. Without from=, source= is a subdirectory of the cache
// (opened inside it by the caller).
async function cacheDir(store: Store, mount: CacheMount, from: RootfsSource | undefined): Promise<string> {
  const id = mount.id ?? mount.target;
  const source = cleanPath(`/${mount.source ?? '/'}`);
  const key = from ? JSON.stringify([id, from.imageId, source]) : id;
  const dir = join(store.root.cacheMountsDir, createHash('sha256').update(key).digest('hex'));
  if (from) {
    await seedCacheDir(store, dir, from, source, mount.from!);
    return dir;
  }
  await ensureCacheDir(dir, mount.mode ?? 0o755, mount.uid ?? 0, mount.gid ?? 0);
  return dir;
}

// seedCacheDir copies the source into a temp dir and renames it into place, so
// a killed build never leaves a half-seeded cache; a concurrent seeder may win.
async function seedCacheDir(store: Store, dir: string, from: RootfsSource, source: string, fromName: string): Promise<void> {
  if (await stat(dir).then(() => true, () => false)) return;
  const temp = await store.root.makeTempDir('cache-seed');
  try {
    const view = await materializeRootfsPath(from.layers, source, join(temp, 'tree'), { writable: true, shown: `mount from=${fromName}` });
    if (view.isFile) throw new NboxError('ERR_NBOX_BUILD', `cache mount source "${source}" of from=${fromName} is not a directory`);
    await mkdir(join(dir, '..'), { recursive: true });
    await rename(view.hostPath, dir).catch((err: unknown) => {
      if (!isErrno(err, 'EEXIST') && !isErrno(err, 'ENOTEMPTY')) throw err;
    });
  } finally {
    await store.root.removeTree(temp);
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
