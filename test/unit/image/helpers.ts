// Shared setup for image tests: a fresh temporary directory per test, and tars made by GNU tar.
import { execFileSync } from 'node:child_process';
import { createReadStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ExecutionContext } from 'ava';

/** tempDir makes a directory removed when the test ends. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nbox-image-test-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** makeTar writes files (relative path → content) into a directory and tars it to `<dir>.tar`; returns the tar's path. */
export async function makeTar(dir: string, files: Record<string, string>): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
  const tarPath = `${dir}.tar`;
  execFileSync('tar', ['-C', dir, '-cf', tarPath, '.']);
  return tarPath;
}

/** sha256sum digests a file with coreutils, as an independent check of nbox's hashing. */
export function sha256sum(file: string): string {
  return `sha256:${execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]}`;
}

/** tarStream opens a file as a stream. */
export function tarStream(file: string): Readable {
  return createReadStream(file);
}
