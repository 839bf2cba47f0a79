// `nbox cp [-a] [-L] SRC DEST`, one of them CONTAINER:PATH: Docker's client
// side of a copy. It asks the library for the stat of the container path,
// decides as Docker does where the copy lands (a directory takes the source
// by its name, `SRC/.` copies a directory's contents, a missing DEST takes
// the source's content under its own name) and moves one tar each way.
import { spawn } from 'node:child_process';
import { lstat, mkdtemp, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type * as Stream from 'node:stream';
import type { Readable } from 'node:stream';
import type * as StreamPromises from 'node:stream/promises';
import type { Command } from 'commander';

import type { Nbox } from '../../api';
import { NboxError, fsErrorText, isErrno } from '../../errors';
import type { CliContext } from '../context';

// Streams load when a copy starts, not with the CLI: milliseconds of every nbox start.
const stream = () => require('node:stream') as typeof Stream;
const pipeline = (source: Readable, dest: NodeJS.WritableStream): Promise<void> => (require('node:stream/promises') as typeof StreamPromises).pipeline(source, dest);

interface CpFlags {
  archive?: boolean;
  followLink?: boolean;
}

/** registerCp adds `cp`. */
export function registerCp(program: Command, ctx: CliContext): void {
  program
    .command('cp')
    .description('Copy files/folders between a container and the local filesystem')
    .argument('<src>', 'CONTAINER:SRC_PATH, a local path, or - for a tar on stdin')
    .argument('<dest>', 'CONTAINER:DEST_PATH, a local path, or - for a tar on stdout')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'suppress progress output during copy (nbox prints none)')
    .action(async (src: string, dest: string, flags: CpFlags) => {
      const from = splitCpArg(src);
      const to = splitCpArg(dest);
      if (from.container === undefined && to.container === undefined) throw copyError('must specify at least one container source');
      if (from.container !== undefined && to.container !== undefined) throw copyError('copying between containers is not supported');
      const nbox = await ctx.open();
      if (from.container !== undefined) await copyOut(nbox, from.container, from.path, dest, flags);
      else await copyIn(nbox, to.container!, to.path, src, flags);
    });
}

/** splitCpArg reads CONTAINER:PATH as Docker does: an absolute path, or a name before `:` starting with `.`, is local. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Landing says where a copy into a container goes: the directory the tar is unpacked in, and the name its top entry takes. */
export interface Landing {
  dir: string;
  name: string;
}

/** landing applies Docker's rules: an existing directory takes the source by its name (or, for `SRC/.`,
 * its contents); an existing file is replaced by a file; a missing path names the copy in its parent. */
export function landing(args: { path: string; dest: { isDirectory: boolean } | null; srcIsDir: boolean; srcName: string; contents: boolean; container: string }): Landing {
  const { path, dest, srcIsDir, contents } = args;
  if (dest?.isDirectory) return { dir: path, name: contents ? '.' : args.srcName };
  if (dest && srcIsDir) throw copyError(`cannot copy a directory to a file: ${path}`);
  if (!dest && /\/\.?$/.test(path)) throw copyError(`Could not find the file ${path} in container ${args.container}`);
  return { dir: dirname(path.startsWith('/') ? path : `/${path}`), name: basename(path) };
}

function copyError(message: string): NboxError {
  return new NboxError('ERR_NBOX_COPY', message);
}

// copyOut copies CONTAINER:path to dest (a local path, or - for the tar itself).
async function copyOut(nbox: Nbox, container: string, path: string, dest: string, flags: CpFlags): Promise<void> {
  if (dest === '-') {
    const { pipeToStdout } = await import('../stdout-pipe');
    await pipeToStdout(await nbox.copyFromContainer(container, path, { followLink: flags.followLink }));
    return;
  }
  const source = await nbox.statContainerPath(container, path, { followLink: flags.followLink });
  const contents = /\/\.$/.test(path);
  const destStats = await stat(dest).catch((err: unknown) => (isErrno(err, 'ENOENT') ? null : Promise.reject(err)));
  const untar = () => nbox.copyFromContainer(container, path, { followLink: flags.followLink });
  if (destStats?.isDirectory()) {
    await extractLocal(await untar(), dest, flags.archive);
    return;
  }
  if (destStats && source.isDirectory) throw copyError(`cannot copy a directory to a file: ${dest}`);
  if (!destStats && /\/\.?$/.test(dest)) throw copyError(`no such directory: ${dest}`);
  // The tar lands in a private directory beside dest, then takes dest's name by rename.
  const parent = dirname(dest);
  const scratch = await mkdtemp(join(parent, '.nbox-cp-')).catch((err: unknown) => {
    throw isErrno(err, 'ENOENT') ? copyError(`no such directory: ${parent}`) : err;
  });
  try {
    await extractLocal(await untar(), scratch, flags.archive);
    await rename(contents && source.isDirectory ? scratch : join(scratch, source.name), dest);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// copyIn copies src (a local path, or - for a tar on stdin) to CONTAINER:path.
async function copyIn(nbox: Nbox, container: string, path: string, src: string, flags: CpFlags): Promise<void> {
  if (src === '-') {
    await nbox.copyToContainer(container, path, process.stdin, { keepOwners: flags.archive });
    return;
  }
  const local = flags.followLink ? await realpath(src).catch(() => src) : src;
  const srcStats = await (flags.followLink ? stat(local) : lstat(local)).catch((err: unknown) => {
    // Go's words for the lstat, as Docker's client prints them: `lstat /file/: not a directory`.
    throw typeof (err as NodeJS.ErrnoException).code === 'string' ? copyError(`lstat ${src}: ${fsErrorText(err)}`) : err;
  });
  const contents = /\/\.$/.test(src) && srcStats.isDirectory();
  const dest = await nbox.statContainerPath(container, path, { followLink: true }).catch((err: unknown) => {
    if (err instanceof NboxError && err.code === 'ERR_NBOX_COPY' && err.message.startsWith('Could not find the file')) return null;
    throw err;
  });
  const { dir: destDir, name } = landing({ path, dest, srcIsDir: srcStats.isDirectory(), srcName: basename(src), contents, container });
  const tar = contents ? localTar(local, '.', name) : localTar(dirname(local), basename(local), name);
  await nbox.copyToContainer(container, destDir, tar, { keepOwners: flags.archive });
}

// localTar is GNU tar of entry in dir, its first name changed to name.
function localTar(dir: string, entry: string, name: string): Readable {
  const args = ['-c', '-f', '-', '-C', dir];
  if (entry !== name) args.push(`--transform=s,^${escapeRegex(entry)}\\(/\\|$\\),${escapeReplacement(name)}\\1,`);
  const child = spawn('tar', [...args, '--', entry], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Piped on at once: output nobody reads yet is lost when the child exits.
  const out = new (stream().PassThrough)();
  child.stdout!.pipe(out);
  child.once('error', (err) => out.destroy(err));
  child.once('exit', (code) => code !== 0 && out.destroy(copyError(`tar exited with status ${code} reading ${join(dir, entry)}`)));
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*[\],]/g, (char) => `\\${char}`);
}

function escapeReplacement(text: string): string {
  return text.replace(/[\\&,]/g, (char) => `\\${char}`);
}

// extractLocal unpacks a tar from a container into a local directory: owners kept only with -a.
async function extractLocal(tar: Readable, dir: string, keepOwners = false): Promise<void> {
  const child = spawn('tar', ['-x', '-f', '-', '-C', dir, keepOwners ? '--same-owner' : '--no-same-owner'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  await pipeline(tar, child.stdin!);
  const code = await exited;
  if (code !== 0) throw copyError(stderr.split('\n').find((line) => line.trim() !== '') ?? `tar exited with status ${code}`);
}
