// The build context: a directory used in place, or a tarball / stdin stream /
// download extracted (a git repository checked out) into a temporary
// directory; plus the Dockerfile and .dockerignore.
import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { closeSync, createReadStream, fstatSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { NboxError, SysError, isErrno } from '../errors';
import { openInRoot } from '../image/fs-calls';
import { extractTar, sniffArchive } from '../image/tar/archive';
import { ignoreMatcher, parseDockerignore, type IgnoreMatcher } from './dockerignore';
import { isRemoteContext, localGitSource, openRemoteContext } from './remote-context';

/** OpenContextOptions says where the context and the Dockerfile come from; give path or tarStream. */
export interface OpenContextOptions {
  /** path: a context directory (used in place), a tarball (plain or compressed), '-' for stdin, a git repository
   * (`URL#ref:subdir`, or `PATH#ref` of a local one), or an http(s) URL of a tarball or a Dockerfile. */
  path?: string;
  /** tarStream: the context as a stream, read like '-': a tar (plain or compressed), or else a lone Dockerfile. */
  tarStream?: Readable;
  /** stdin: what '-' reads; process.stdin unless given. */
  stdin?: Readable;
  /** dockerfile: -f; relative to the context root, or absolute (may lie outside it); '-' reads stdin. */
  dockerfile?: string;
  /** dockerfileText: the Dockerfile as text; with neither path nor tarStream, the context is empty. */
  dockerfileText?: string;
  /** tmpDir: where an extracted context is put (in a directory of its own, removed by close). */
  tmpDir: string;
}

/** BuildContext is an opened context; close removes whatever was extracted. */
export interface BuildContext {
  /** dir: the context root on the host. */
  dir: string;
  dockerfileText: string;
  /** dockerfilePath: the Dockerfile's host path, or '-' when it came from stdin. */
  dockerfilePath: string;
  ignore: IgnoreMatcher;
  close(): Promise<void>;
}

// A tar header block: enough to tell a tar (or compressed stream) from a Dockerfile.
const DEFAULT_DOCKERFILE = 'Dockerfile';

/** openContext prepares the context and reads the Dockerfile and .dockerignore (`<Dockerfile>.dockerignore` first). */
export async function openContext(options: OpenContextOptions): Promise<BuildContext> {
  let extractedDir: string | undefined;
  const close = async () => {
    if (extractedDir) await rm(extractedDir, { recursive: true, force: true });
    extractedDir = undefined;
  };
  try {
    const stdin = () => options.stdin ?? process.stdin;
    const fromStream = options.tarStream ?? (options.path === '-' ? stdin() : undefined);
    const remote = options.path === undefined || fromStream ? null
      : isRemoteContext(options.path) ? options.path : await localGitSource(options.path);
    let dir: string;
    // The names the context directory goes by (as given, and its real path): an absolute -f under one is its file.
    let dirNames: string[] = [];
    let streamedDockerfile: string | undefined;

    if (remote !== null) {
      extractedDir = await mkdtemp(join(options.tmpDir, 'context-'));
      const fetched = await openRemoteContext(remote, extractedDir);
      dir = fetched.kind === 'dir' ? fetched.dir : extractedDir;
      if (fetched.kind === 'stream') streamedDockerfile = await unpackStream(fetched.stream, dir);
    } else if (fromStream) {
      extractedDir = await mkdtemp(join(options.tmpDir, 'context-'));
      dir = extractedDir;
      streamedDockerfile = await unpackStream(fromStream, dir);
    } else if (options.path !== undefined) {
      const path = resolve(options.path);
      const stats = await stat(path).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw contextError(`path "${options.path}" not found`);
        throw err;
      });
      // A context named through a symlink is the directory it leads to: its root is never a link.
      if (stats.isDirectory()) {
        dir = await realpath(path);
        dirNames = [path, dir];
      } else {
        extractedDir = await mkdtemp(join(options.tmpDir, 'context-'));
        dir = extractedDir;
        await extractTarball(path, dir, options.path);
      }
    } else if (options.dockerfileText !== undefined) {
      extractedDir = await mkdtemp(join(options.tmpDir, 'context-'));
      dir = extractedDir;
    } else throw new NboxError('ERR_NBOX_USAGE', 'a build context (a path or a stream) is required');

    let dockerfilePath: string;
    let dockerfileText: string;
    if (options.dockerfileText !== undefined) {
      if (options.dockerfile !== undefined || streamedDockerfile !== undefined) throw contextError('a Dockerfile given as text cannot be combined with another Dockerfile');
      [dockerfilePath, dockerfileText] = ['-', options.dockerfileText];
    } else if (streamedDockerfile !== undefined) {
      if (options.dockerfile !== undefined && options.dockerfile !== '-') throw contextError('a context that is a lone Dockerfile cannot be combined with -f');
      [dockerfilePath, dockerfileText] = ['-', streamedDockerfile];
    } else if (options.dockerfile === '-') {
      if (fromStream) throw contextError('the context and the Dockerfile cannot both come from stdin');
      [dockerfilePath, dockerfileText] = ['-', await readAll(stdin())];
    } else {
      ({ dockerfilePath, dockerfileText } = await readDockerfile(dir, dirNames, options.dockerfile));
    }

    const ignore = ignoreMatcher(parseDockerignore(await readIgnoreFile(dir, dockerfilePath)));
    return { dir, dockerfileText, dockerfilePath, ignore, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// unpackStream extracts a tar (plain or compressed) into dir; a stream that is
// no archive is a Dockerfile, returned as text, and the context stays empty.
async function unpackStream(stream: Readable, dir: string): Promise<string | undefined> {
  const { compression, replay } = await sniffArchive(stream);
  if (compression) {
    await extractTar(replay, compression, dir);
    return undefined;
  }
  return readAll(replay);
}

async function extractTarball(path: string, dir: string, shown: string): Promise<void> {
  const { compression, replay } = await sniffArchive(createReadStream(path));
  if (!compression) {
    replay.destroy();
    throw contextError(`context must be a directory or a tar archive: ${shown}`);
  }
  await extractTar(replay, compression, dir);
}

// readDockerfile finds -f (or Dockerfile, falling back to lowercase dockerfile as the docker CLI does).
// A name inside the context, relative or an absolute path under one of dirNames, is read inside it, as
// BuildKit reads it: the context may be hostile, and its Dockerfile a symlink to a host file. A -f that
// leaves the context is the caller's own host path.
async function readDockerfile(dir: string, dirNames: string[], name: string | undefined): Promise<{ dockerfilePath: string; dockerfileText: string }> {
  const candidates = name === undefined ? [DEFAULT_DOCKERFILE, DEFAULT_DOCKERFILE.toLowerCase()] : [name];
  for (const candidate of candidates) {
    const inContext = isAbsolute(candidate) ? underDir(candidate, dirNames) : contextRelative(candidate);
    const dockerfilePath = inContext !== null ? join(dir, inContext) : isAbsolute(candidate) ? candidate : join(dir, candidate);
    const text = inContext === null ? await readFileOrNull(dockerfilePath) : readInRoot(dir, inContext);
    if (text !== null) return { dockerfilePath, dockerfileText: text };
  }
  throw contextError(`cannot find Dockerfile: ${name ?? DEFAULT_DOCKERFILE}`);
}

// underDir is an absolute path relative to the first of dirNames it lies under, or null.
function underDir(path: string, dirNames: string[]): string | null {
  for (const dirName of dirNames) {
    const inside = contextRelative(posix.relative(dirName, path));
    if (inside !== null) return inside;
  }
  return null;
}

// readIgnoreFile prefers `<Dockerfile>.dockerignore` beside the Dockerfile, as BuildKit does.
async function readIgnoreFile(dir: string, dockerfilePath: string): Promise<string> {
  if (dockerfilePath !== '-') {
    const specific = `${basename(dockerfilePath)}.dockerignore`;
    const inContext = contextRelative(posix.relative(dir, dockerfilePath));
    const text = inContext === null
      ? await readFileOrNull(join(dirname(dockerfilePath), specific))
      : readInRoot(dir, posix.join(posix.dirname(inContext), specific));
    if (text !== null) return text;
  }
  return readInRoot(dir, '.dockerignore') ?? '';
}

// contextRelative is name as a clean path inside the context, or null when it is absolute or leaves it.
function contextRelative(name: string): string | null {
  if (isAbsolute(name)) return null;
  const clean = posix.normalize(name);
  return clean === '..' || clean.startsWith('../') ? null : clean;
}

// readInRoot reads a file of the context with its symlinks resolved inside the context; null when missing.
function readInRoot(dir: string, relative: string): string | null {
  let fd: number;
  try {
    fd = openInRoot(dir, relative);
  } catch (err) {
    if (err instanceof SysError && (err.errnoName === 'ENOENT' || err.errnoName === 'ENOTDIR')) return null;
    throw err;
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw contextError(`${join(dir, relative)} is a directory, not a file`);
    if (!stats.isFile()) throw contextError(`${join(dir, relative)} is not a regular file`);
    // The O_PATH fd reopened: the file resolved in the context, not the name again.
    return readFileSync(`/proc/self/fd/${fd}`, 'utf8');
  } finally {
    closeSync(fd);
  }
}

async function readFileOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return null;
    if (isErrno(err, 'EISDIR')) throw contextError(`${path} is a directory, not a file`);
    throw err;
  }
}


async function readAll(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function contextError(detail: string): NboxError {
  return new NboxError('ERR_NBOX_BUILD', `unable to prepare context: ${detail}`);
}
