// Debian's podman (and skopeo) on a private, throwaway storage root, for
// interop tests: nothing touches the machine's own podman store.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Podman runs podman against its own temporary store. */
export interface Podman {
  /** podman runs `podman ARGS` and returns stdout; it rejects with stderr on failure. */
  podman(args: string[]): Promise<string>;
  /** storage is the containers-storage reference prefix skopeo uses for this store. */
  storage: string;
  cleanup(): Promise<void>;
}

/** hasPodman tells whether podman and skopeo are installed. */
export function hasPodman(): boolean {
  return existsSync('/usr/bin/podman') && existsSync('/usr/bin/skopeo');
}

/** makePodman gives a podman whose store lives in a temp dir (vfs: no mounts to leave behind). */
export async function makePodman(): Promise<Podman> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-podman-'));
  const globals = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  const podman = async (args: string[]) => (await run('podman', [...globals, ...args], { maxBuffer: 1 << 24 })).stdout;
  return {
    podman,
    storage: `containers-storage:[vfs@${join(dir, 'storage')}+${join(dir, 'run')}]`,
    cleanup: async () => {
      await podman(['rm', '-a', '-f']).catch(() => undefined);
      await podman(['rmi', '-a', '-f']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** PODMAN_RUN are the flags this sandbox needs for podman run: runc, no network, modest ulimits. */
export const PODMAN_RUN = ['run', '--rm', '--runtime', 'runc', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
