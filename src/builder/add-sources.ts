// What ADD fetches beyond the context: an http(s) download (to a file of the
// step's scratch directory, mode 0600, dated by
// Last-Modified, unpacked only with --unpack=true) or a git checkout; and
// --checksum, checked against a download, a local file or a git commit.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { NboxError } from '../errors';
import { archiveCompression } from '../image/tar/archive';
import type { Compression } from '../image/tar/compression';
import { fetchGit, isRemoteGitUrl, parseGitSource, redactUrl } from './git-source';

/** RemoteSource is one fetched ADD source: a downloaded file, a downloaded archive to extract, or a checked-out directory. */
export type RemoteSource =
  | { kind: 'file'; name: string; hostPath: string; mtimeMs: number }
  | { kind: 'archive'; hostPath: string; compression: Compression }
  | { kind: 'dir'; dir: string };

/** RemoteOptions are ADD's flags that apply to fetched sources. */
export interface RemoteOptions {
  /** checksum: `sha256:…` of a download, or a (prefix of a) commit for git. */
  checksum?: string;
  /** unpack: true extracts a downloaded archive (a download is otherwise kept as one file). */
  unpack?: boolean;
  keepGitDir?: boolean;
  /** sshAgent: the `--ssh default` agent socket, for an ssh git source. */
  sshAgent?: string;
  /** scratch: a private directory that holds checkouts and downloads until the step is done. */
  scratch: string;
  signal?: AbortSignal;
}

// Digest algorithms --checksum accepts, with the hex length of each.
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** isRemoteSource tells whether an ADD source is fetched rather than read from the context. */
export function isRemoteSource(src: string): boolean {
  return isRemoteGitUrl(src) || /^https?:\/\//i.test(src);
}

/** fetchRemoteSource downloads or checks out an ADD source, verifying --checksum. */
export async function fetchRemoteSource(src: string, options: RemoteOptions): Promise<RemoteSource> {
  if (isRemoteGitUrl(src)) {
    const dir = await mkdtemp(join(options.scratch, 'git-'));
    const checkout = await fetchGit(parseGitSource(src), dir, { keepGitDir: options.keepGitDir, signal: options.signal, fromDockerfile: true, sshAgent: options.sshAgent });
    if (options.checksum !== undefined) verifyCommit(options.checksum, checkout.commit, src);
    return { kind: 'dir', dir: checkout.dir };
  }
  // A malformed checksum is refused before anything is downloaded.
  const algorithm = options.checksum === undefined ? undefined : digestAlgorithm(options.checksum);
  const name = posix.basename(new URL(src).pathname);
  // Not the URL's name, which may be longer than a file name can be: that names the copy in a directory alone.
  const hostPath = join(await mkdtemp(join(options.scratch, 'url-')), 'download');
  const hash = algorithm ? createHash(algorithm) : undefined;
  const { mtimeMs } = await download(src, hostPath, hash, options.signal);
  if (hash) verifyDigest(options.checksum!, hash, src);
  if (options.unpack) {
    const compression = await archiveCompression(hostPath);
    if (compression) return { kind: 'archive', hostPath, compression };
  }
  return { kind: 'file', name, hostPath, mtimeMs };
}

/** verifyFileChecksum checks a local ADD source against --checksum. */
export async function verifyFileChecksum(checksum: string, hostPath: string, shown: string): Promise<void> {
  const hash = createHash(digestAlgorithm(checksum));
  await pipeline(createReadStream(hostPath), hash);
  verifyDigest(checksum, hash, shown);
}

// digestAlgorithm validates `algorithm:hex` and returns the algorithm.
function digestAlgorithm(checksum: string): string {
  const [algorithm, hex] = checksum.split(':', 2);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (!length || hex === undefined || !new RegExp(`^[0-9a-f]{${length}}$`).test(hex)) {
    throw new NboxError('ERR_NBOX_BUILD', `invalid checksum digest format: ${JSON.stringify(checksum)} (expected sha256:<64 hex digits>)`);
  }
  return algorithm;
}

function verifyDigest(checksum: string, hash: ReturnType<typeof createHash>, shown: string): void {
  const actual = `${digestAlgorithm(checksum)}:${hash.digest('hex')}`;
  if (actual !== checksum) throw new NboxError('ERR_NBOX_BUILD', `checksum mismatch for ${redactUrl(shown)}: expected ${checksum}, got ${actual}`);
}

// A git source's checksum is its commit, or a prefix of it.
function verifyCommit(checksum: string, commit: string, shown: string): void {
  if (!/^[0-9a-f]{4,40}$/i.test(checksum)) throw new NboxError('ERR_NBOX_BUILD', `invalid checksum for git source ${redactUrl(shown)}: expected a commit, got ${JSON.stringify(checksum)}`);
  if (!commit.startsWith(checksum.toLowerCase())) throw new NboxError('ERR_NBOX_BUILD', `checksum mismatch for ${redactUrl(shown)}: expected commit ${checksum}, got ${commit}`);
}

// download streams url's body into a new file at hostPath (mode 0600), through hash when given: a download of any
// size costs disk, as Docker's, never memory.
async function download(url: string, hostPath: string, hash: Hash | undefined, signal: AbortSignal | undefined): Promise<{ mtimeMs: number }> {
  const shown = redactUrl(url);
  const failed = (err: unknown) => {
    const cause = (err as Error & { cause?: Error }).cause;
    return new NboxError('ERR_NBOX_BUILD', `ADD failed: ${shown}: ${cause?.message ?? (err as Error).message}`, { cause: err });
  };
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal });
  } catch (err) {
    throw failed(err);
  }
  if (!response.ok) throw new NboxError('ERR_NBOX_BUILD', `ADD failed: ${shown}: invalid response status ${response.status}`);
  const body = response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]);
  const file = createWriteStream(hostPath, { flags: 'wx', mode: 0o600 });
  const hashing = new Transform({ transform: (chunk: Buffer, _encoding, done) => (hash?.update(chunk), done(null, chunk)) });
  await pipeline(body, hashing, file).catch((err: unknown) => {
    throw failed(err);
  });
  const lastModified = Date.parse(response.headers.get('last-modified') ?? '');
  return { mtimeMs: Number.isNaN(lastModified) ? Date.now() : lastModified };
}
