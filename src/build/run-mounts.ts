// RUN --mount: what each mount type becomes for the step's container.
// cache: a directory in the store kept across builds; bind: a context
// directory (read-only, or a throwaway copy with rw); tmpfs; secret: a file
// or an environment variable from `--secret`. Nothing mounted reaches the layer.
import { createHash } from 'node:crypto';
import { cp, mkdir, open, readFile, realpath, stat } from 'node:fs/promises';
import { chownSync, chmodSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { NboxError } from '../errors';
import type { RunMount } from '../dockerfile/run-mount';
import type { Store } from '../image/store';
import { addon, type BindMount } from '../sys/addon';
import { cleanPath } from './glob';

/** MountSources are where mounts take their content from. */
export interface MountSources {
  contextDir: string;
  /** Build secrets by id: a host file path. */
  secrets: Map<string, string>;
  /** A private temp dir for this step (rw bind copies live there). */
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
          if (mount.from !== undefined || mount.source !== undefined) unsupported('type=cache with from/source');
          const dir = join(store.root, 'cache-mounts', createHash('sha256').update(mount.id ?? mount.target).digest('hex'));
          await ensureCacheDir(dir, mount.mode ?? 0o755, mount.uid ?? 0, mount.gid ?? 0);
          // `locked` lets one step at a time use the cache (apt's lists, for one).
          if (mount.sharing === 'locked') locks.push(await lockExclusive(`${dir}.lock`));
          mounts.push({ source: dir, target: mount.target, readonly: mount.readOnly, isFile: false });
          break;
        }
        case 'bind': {
          if (mount.from !== undefined) unsupported('type=bind with from=');
          const relative = cleanPath(`/${mount.source ?? '.'}`);
          const hostPath = join(sources.contextDir, relative);
          const notFound = () => new NboxError('ERR_NBOX_BUILD', `failed to compute cache key: "${relative}" not found in the build context`);
          const st = await stat(hostPath).catch(() => {
            throw notFound();
          });
          // A symlink in the context must not lend the step a host directory.
          const [real, root] = await Promise.all([realpath(hostPath), realpath(sources.contextDir)]);
          if (real !== root && !real.startsWith(`${root}/`)) throw notFound();
          let source = hostPath;
          if (!mount.readOnly) {
            // BuildKit discards a rw bind's writes: the step writes to a copy.
            source = join(sources.scratch, `bind-${mounts.length}`);
            await cp(hostPath, source, { recursive: true, preserveTimestamps: true });
          }
          mounts.push({ source, target: mount.target, readonly: mount.readOnly, isFile: !st.isDirectory() });
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
