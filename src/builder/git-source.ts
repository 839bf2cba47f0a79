// Git repositories as build inputs (ADD of a git URL, a git build context):
// `URL#ref:subdir` parsed as Docker and BuildKit read it, and checked out with
// the git CLI: a shallow fetch of the one ref, a full fetch only for a commit
// abbreviation (which no server resolves), and no .git unless asked.
import { spawn } from 'node:child_process';
import { realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NboxError } from '../errors';
import { cleanPath } from './glob';

/** GitSource is a repository and what of it to use: the fragment of `URL#ref:subdir`. */
export interface GitSource {
  /** remote: the repository URL as git takes it (credentials included). */
  remote: string;
  /** ref: a branch, tag, `refs/…` name or commit (full or abbreviated); the remote's HEAD when absent. */
  ref?: string;
  /** subdir: the directory of the checkout to use, relative to its root. */
  subdir?: string;
}

/** GitCheckout is a fetched source: the directory to use and the commit it holds. */
export interface GitCheckout {
  dir: string;
  commit: string;
}

// user@host:path, the scp-like form ssh remotes are written in.
const SCP_LIKE = /^[\w.+-]+@[\w.-]+:(?!\/)/;
const GIT_SCHEMES = /^(git|ssh|git\+ssh|file):\/\//i;
// Docker takes an http(s) URL for a repository only when its path ends in .git.
const HTTP_GIT = /^https?:\/\/[^#]*\.git(#.*)?$/i;
const COMMIT_PREFIX = /^[0-9a-f]{4,40}$/i;

/** isGitUrl tells whether text names a git repository: `git@host:path`, `git://`, `ssh://`, `file://`, or an http(s) URL ending in `.git`. */
export function isGitUrl(text: string): boolean {
  return SCP_LIKE.test(text) || GIT_SCHEMES.test(text) || HTTP_GIT.test(text);
}

/** isRemoteGitUrl is isGitUrl without `file://`: what a Dockerfile may name (ADD), as BuildKit takes. A
 * Dockerfile is not the user: it must not read any repository on the host. */
export function isRemoteGitUrl(text: string): boolean {
  return isGitUrl(text) && !/^file:/i.test(text);
}

/** parseGitSource splits `URL#ref:subdir` (both parts optional) into its parts. */
export function parseGitSource(text: string): GitSource {
  const hash = text.indexOf('#');
  const remote = hash < 0 ? text : text.slice(0, hash);
  if (remote === '') throw new NboxError('ERR_NBOX_BUILD', `invalid git URL: ${redactUrl(text)}`);
  if (hash < 0) return { remote };
  const fragment = text.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  return { remote, ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}) };
}

/** redactUrl hides the password of a URL's user info, so it never reaches output or errors. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/@#:\s]*):[^/@#\s]*@/gi, '$1:xxxxx@');
}

/** FetchGitOptions tune a checkout. */
export interface FetchGitOptions {
  /** keepGitDir keeps .git (with the remote as origin), as ADD --keep-git-dir asks. */
  keepGitDir?: boolean;
  /** signal kills git when the build is interrupted. */
  signal?: AbortSignal;
  /** fromDockerfile: the URL comes from a Dockerfile (ADD), not from the user. git then refuses local
   * repositories (protocol.file.allow=never) and gets none of the caller's git config, credential helpers,
   * ssh config or identities: ssh gets only sshAgent, never the caller's SSH_AUTH_SOCK. */
  fromDockerfile?: boolean;
  /** sshAgent: the agent socket `--ssh default` gave, for a Dockerfile's ssh remote. */
  sshAgent?: string;
}

/** fetchGit checks source out into dir (empty or missing) and returns the directory its subdir names. */
export async function fetchGit(source: GitSource, dir: string, options: FetchGitOptions = {}): Promise<GitCheckout> {
  const shown = redactUrl(source.remote);
  const env = options.fromDockerfile ? dockerfileGitEnv(options.sshAgent) : userGitEnv();
  const confined = options.fromDockerfile ? ['-c', 'protocol.file.allow=never'] : [];
  const git = (args: string[]) => runGit([...confined, '-C', dir, ...args], options.signal, env);
  await runGit(['init', '-q', dir], options.signal, env);
  const wanted = source.ref ?? 'HEAD';
  let commit: string;
  try {
    await git(['fetch', '-q', '--depth=1', '--no-tags', '--', source.remote, wanted]);
    commit = await git(['rev-parse', '--verify', 'FETCH_HEAD^{commit}']);
  } catch (err) {
    // A commit abbreviation is not a ref a server knows: fetch everything and look it up.
    if (!(source.ref && COMMIT_PREFIX.test(source.ref))) throw fetchError(shown, wanted, err);
    await git(['fetch', '-q', '--no-tags', '--', source.remote, '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'])
      .catch((full: unknown) => {
        throw fetchError(shown, wanted, full);
      });
    commit = await git(['rev-parse', '--verify', '--quiet', `${source.ref}^{commit}`]).catch(() => {
      throw new NboxError('ERR_NBOX_BUILD', `failed to fetch ${shown}: unknown git ref "${source.ref}"`);
    });
  }
  await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', commit]);
  if (options.keepGitDir) await git(['remote', 'add', 'origin', source.remote]);
  else await rm(join(dir, '.git'), { recursive: true, force: true });
  return { dir: await subdirOf(dir, source.subdir, shown), commit };
}

// subdirOf is the checkout's subdirectory, refused when missing or when a symlink leads out of it.
async function subdirOf(root: string, subdir: string | undefined, shown: string): Promise<string> {
  if (!subdir) return root;
  const path = join(root, cleanPath(`/${subdir}`));
  const missing = () => new NboxError('ERR_NBOX_BUILD', `subdirectory "${subdir}" not found in git repository ${shown}`);
  const stats = await stat(path).catch(() => {
    throw missing();
  });
  const [real, realRoot] = await Promise.all([realpath(path), realpath(root)]);
  if (!stats.isDirectory() || (real !== realRoot && !real.startsWith(`${realRoot}/`))) throw missing();
  return real;
}

function fetchError(shown: string, ref: string, err: unknown): NboxError {
  return new NboxError('ERR_NBOX_BUILD', `failed to fetch ${ref === 'HEAD' ? '' : `ref "${ref}" of `}git repository ${shown}: ${(err as Error).message}`, { cause: err });
}

// Git must never ask for a password or a host key on the terminal; the umask
// makes checked-out files 0644 and 0755 whatever the caller's is.
const GIT_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  LC_ALL: 'C',
};

// The variables that point git at a repository other than the one it runs in (`git rev-parse --local-env-vars`):
// from the caller's environment they would fetch into, and check out over, the caller's repository.
const REPOSITORY_VARIABLES = new Set([
  'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_CONFIG', 'GIT_DIR', 'GIT_GRAFT_FILE', 'GIT_IMPLICIT_WORK_TREE',
  'GIT_INDEX_FILE', 'GIT_NAMESPACE', 'GIT_NO_REPLACE_OBJECTS', 'GIT_OBJECT_DIRECTORY', 'GIT_PREFIX', 'GIT_REPLACE_REF_BASE',
  'GIT_SHALLOW_FILE', 'GIT_WORK_TREE',
]);
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'no_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY'];

// userGitEnv is the caller's environment for a source the user named: their config, credentials and ssh apply.
function userGitEnv(): Record<string, string | undefined> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !REPOSITORY_VARIABLES.has(name)));
  return { ...env, GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes' };
}

// dockerfileGitEnv is all a Dockerfile's git gets, as BuildKit runs it (HOME=/dev/null): PATH and proxies, no
// global config (credential helpers, url rewrites), and an ssh that reads no config and offers no key file:
// only the agent `--ssh` gave. Known hosts are still checked.
function dockerfileGitEnv(sshAgent: string | undefined): Record<string, string | undefined> {
  const proxies = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
  return {
    ...proxies,
    PATH: process.env.PATH,
    HOME: '/dev/null',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_SSH_COMMAND: 'ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile=none',
    SSH_AUTH_SOCK: sshAgent,
  };
}

// runGit runs git with env and resolves with its trimmed stdout; a failure rejects with git's last "fatal:"
// line. Undefined entries of env are left out.
function runGit(args: string[], signal: AbortSignal | undefined, env: Record<string, string | undefined>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'umask 022 && exec git "$@"', 'git', ...args], {
      env: definedOnly({ ...env, ...GIT_ENV }),
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', (err) => reject(new NboxError('ERR_NBOX_BUILD', `git: ${err.message}`, { cause: err })));
    child.once('close', (code) => {
      if (code === 0) return resolve(stdout.trim());
      const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
      const reason = lines.find((line) => line.startsWith('fatal:')) ?? lines[lines.length - 1] ?? `git exited with status ${code}`;
      reject(new NboxError('ERR_NBOX_BUILD', redactUrl(reason.replace(/^fatal: /, ''))));
    });
  });
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
