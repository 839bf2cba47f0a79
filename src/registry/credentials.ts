// Registry credentials, kept where and as Docker keeps them: the `auths` map of
// `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), each entry
// `{"auth": base64("user:password")}`. Other keys of the file are left as found.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { NboxError, isErrno } from '../errors';
import { resolveOutput } from '../image/output-target';
import { credentialsKey, normalizeRegistry } from './reference';

/** Credentials are a user name and password (or token) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** CredentialsFileOptions choose the file: an explicit path, else the environment's. */
export interface CredentialsFileOptions {
  path?: string;
  env?: NodeJS.ProcessEnv;
}

type AuthEntry = { auth?: string; username?: string; password?: string };
type ConfigFile = Record<string, unknown> & { auths?: Record<string, AuthEntry> };

/** credentialsPath is the credentials file: options.path, `$NBOX_AUTH_FILE`, `$REGISTRY_AUTH_FILE` (Podman's, same format),
 * `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`. */
export function credentialsPath(options: CredentialsFileOptions = {}): string {
  const env = options.env ?? process.env;
  const explicit = options.path || env.NBOX_AUTH_FILE || env.REGISTRY_AUTH_FILE;
  if (explicit) return explicit;
  return path.join(env.DOCKER_CONFIG || path.join(env.HOME || homedir(), '.docker'), 'config.json');
}

/** lookupCredentials returns the credentials saved for registry, or null; keys written as URLs
 * (`https://host/v1/`) match their host, as Docker matches them. */
export async function lookupCredentials(registry: string, options: CredentialsFileOptions = {}): Promise<Credentials | null> {
  const file = credentialsPath(options);
  const auths = (await readConfig(file)).auths ?? {};
  const wanted = normalizeRegistry(registry);
  const key = Object.keys(auths).find((candidate) => normalizeRegistry(candidate) === wanted);
  return key === undefined ? null : decodeEntry(auths[key], file, key);
}

/** saveCredentials stores credentials for registry, replacing any; the file is written atomically with mode 0600. */
export async function saveCredentials(registry: string, credentials: Credentials, options: CredentialsFileOptions = {}): Promise<void> {
  const file = credentialsPath(options);
  const config = await readConfig(file);
  const auths = withoutRegistry(config.auths ?? {}, registry);
  auths[credentialsKey(normalizeRegistry(registry))] = {
    auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'),
  };
  await writeConfig(file, { ...config, auths });
}

/** removeCredentials forgets the credentials of registry (logout); fails with `Not logged in to REGISTRY` when there are none. */
export async function removeCredentials(registry: string, options: CredentialsFileOptions = {}): Promise<void> {
  const file = credentialsPath(options);
  const config = await readConfig(file);
  const before = config.auths ?? {};
  const auths = withoutRegistry(before, registry);
  if (Object.keys(auths).length === Object.keys(before).length) {
    throw new NboxError('ERR_NBOX_AUTH', `Not logged in to ${normalizeRegistry(registry)}`);
  }
  await writeConfig(file, { ...config, auths });
}

function withoutRegistry(auths: Record<string, AuthEntry>, registry: string): Record<string, AuthEntry> {
  const wanted = normalizeRegistry(registry);
  return Object.fromEntries(Object.entries(auths).filter(([key]) => normalizeRegistry(key) !== wanted));
}

function decodeEntry(entry: AuthEntry, file: string, key: string): Credentials | null {
  if (typeof entry?.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new NboxError('ERR_NBOX_AUTH', `invalid auth entry for ${key} in ${file}`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry?.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  return null;
}

async function readConfig(file: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw new NboxError('ERR_NBOX_AUTH', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return {};
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new NboxError('ERR_NBOX_AUTH', `${file} is not valid JSON`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new NboxError('ERR_NBOX_AUTH', `${file} is not a JSON object`);
  return config as ConfigFile;
}

// Temp file in the same directory, fsync, rename: a crash leaves the old file or the new one.
// As docker's CLI: a symlinked config.json (dotfile managers link it) keeps its link; its target is replaced.
async function writeConfig(file: string, config: ConfigFile): Promise<void> {
  let target: string;
  try {
    target = await regularFileTarget(file);
  } catch (err) {
    throw new NboxError('ERR_NBOX_AUTH', `cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(config, null, '\t')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw new NboxError('ERR_NBOX_AUTH', `cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

// regularFileTarget is the path file resolves to; a device or FIFO there is no credentials file.
async function regularFileTarget(file: string): Promise<string> {
  const target = await resolveOutput(file);
  if (target.kind === 'file') return target.path;
  await target.handle.close();
  throw new Error('not a regular file');
}
