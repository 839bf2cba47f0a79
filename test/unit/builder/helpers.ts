// Small file trees for build tests: contexts and fake layer directories.
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** isRoot tells whether the tests run as root (owners, devices, trusted xattrs). */
export const isRoot = process.getuid?.() === 0;

/** Node is one entry to create: file content, or a described entry. */
export type Node = string | { content: string; mode?: number; mtime?: number } | { link: string } | { dir: true; mode?: number; mtime?: number } | { whiteout: true } | { fifo: true };

/** tempDir makes a directory removed when the test ends. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-build-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** makeTree creates nodes (relative path -> node) under dir, parents first by path order. */
export async function makeTree(dir: string, nodes: Record<string, Node>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [path, node] of Object.entries(nodes)) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    if (typeof node === 'string') await writeFile(target, node);
    else if ('content' in node) {
      await writeFile(target, node.content);
      if (node.mode !== undefined) await chmod(target, node.mode);
      if (node.mtime !== undefined) await utimes(target, node.mtime, node.mtime);
    } else if ('link' in node) await symlink(node.link, target);
    else if ('dir' in node) {
      await mkdir(target, { recursive: true });
      if (node.mode !== undefined) await chmod(target, node.mode);
      if (node.mtime !== undefined) await utimes(target, node.mtime, node.mtime);
    } else if ('fifo' in node) execFileSync('mkfifo', [target]);
    else execFileSync('mknod', [target, 'c', '0', '0']);
  }
  return dir;
}
