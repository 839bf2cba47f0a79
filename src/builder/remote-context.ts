// Build contexts from elsewhere, as `docker build URL` takes them: a git
// repository (`URL#ref:subdir`; file:// URLs and local repositories written
// `PATH#ref` included), or an http(s) URL whose content is a tarball (plain or
// compressed) or else a lone Dockerfile.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pathToFileURL } from 'node:url';
import { NboxError } from '../errors';
import { fetchGit, isGitUrl, parseGitSource, redactUrl, type GitSource } from './git-source';

/** RemoteContext is a fetched context: a checked-out directory, or a download to read as a tar or a Dockerfile. */
export type RemoteContext = { kind: 'dir'; dir: string } | { kind: 'stream'; stream: Readable };

/** isRemoteContext tells whether a build context argument is a URL (git or http) rather than a local path. */
export function isRemoteContext(text: string): boolean {
  return isGitUrl(text) || /^https?:\/\//i.test(text);
}

/** localGitSource reads `PATH#ref[:subdir]` as a git source when PATH is a local repository and the whole text names no file. */
export async function localGitSource(text: string): Promise<GitSource | null> {
  const hash = text.indexOf('#');
  if (hash <= 0 || (await exists(text))) return null;
  const path = resolve(text.slice(0, hash));
  // A bare repository has HEAD at its top; a work tree has .git.
  if (!(await exists(`${path}/HEAD`)) && !(await exists(`${path}/.git`))) return null;
  return { ...parseGitSource(text), remote: pathToFileURL(path).href };
}

/** openRemoteContext fetches a context; a git checkout goes into checkoutDir, an empty or missing directory. */
export async function openRemoteContext(source: string | GitSource, checkoutDir: string): Promise<RemoteContext> {
  if (typeof source !== 'string' || isGitUrl(source)) {
    const git = typeof source === 'string' ? parseGitSource(source) : source;
    const checkout = await fetchGit(git, checkoutDir).catch((err: unknown) => {
      throw new NboxError('ERR_NBOX_BUILD', `unable to prepare context: ${(err as Error).message}`, { cause: err });
    });
    return { kind: 'dir', dir: checkout.dir };
  }
  const failed = (detail: string, cause?: unknown) =>
    new NboxError('ERR_NBOX_BUILD', `unable to prepare context: unable to download remote context ${redactUrl(source)}: ${detail}`, { cause });
  let response: Response;
  try {
    response = await fetch(source, { redirect: 'follow' });
  } catch (err) {
    throw failed(((err as Error & { cause?: Error }).cause ?? (err as Error)).message, err);
  }
  if (!response.ok || !response.body) throw failed(`${response.status} ${response.statusText}`);
  return { kind: 'stream', stream: Readable.fromWeb(response.body as ReadableStream<Uint8Array>) };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
