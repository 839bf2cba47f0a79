// The container's environment, layered as Docker does: defaults, image Env,
// --env-file, then -e; last value wins and each name keeps its first position.
import { readFileSync } from 'node:fs';

import { NboxError } from '../errors';

/** EnvFile is an --env-file argument: its path (for error messages) and its text. */
export interface EnvFile {
  path: string;
  text: string;
}

/** EnvSources holds everything that contributes to a container's environment. */
export interface EnvSources {
  imageEnv: string[] | null | undefined;
  hostname: string;
  user: { home: string };
  /** -e values in command-line order. */
  cliEnv: string[];
  /** --env-file contents in command-line order. */
  envFiles: EnvFile[];
  /** Where `-e NAME` and a bare `NAME` line in an env file take their value. */
  hostEnv: NodeJS.ProcessEnv;
  /** Docker sets TERM=xterm when the container gets a terminal. */
  tty?: boolean;
}

/** DEFAULT_PATH is the PATH Docker gives a Linux container whose image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** mergeEnv builds the container's NAME=value list from defaults, image Env, env files and -e. */
export function mergeEnv(sources: EnvSources): string[] {
  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    ['HOSTNAME', sources.hostname],
  ]);
  if (sources.tty) env.set('TERM', 'xterm');

  for (const entry of sources.imageEnv ?? []) {
    const { name, value } = checkEntry(entry, `image Env entry ${JSON.stringify(entry)}`);
    if (value === undefined) {
      throw new NboxError('ERR_NBOX_USAGE', `image Env entry ${JSON.stringify(entry)}: no "=" after the name`);
    }
    env.set(name, value);
  }
  for (const file of sources.envFiles) {
    for (const entry of parseEnvFile(file)) setFromUser(env, entry, sources.hostEnv);
  }
  for (const entry of sources.cliEnv) {
    checkEntry(entry, `-e ${JSON.stringify(entry)}`);
    setFromUser(env, entry, sources.hostEnv);
  }

  // runc falls back to the passwd HOME when HOME is unset or empty.
  if (!env.get('HOME')) env.set('HOME', sources.user.home);
  return [...env].map(([name, value]) => `${name}=${value}`);
}

/** parseEnvFile reads --env-file text like the Docker CLI: NAME=value or bare NAME lines, `#` comments, blank lines. */
export function parseEnvFile(file: EnvFile): string[] {
  const entries: string[] = [];
  // A leading UTF-8 byte order mark is not part of the first name.
  const lines = file.text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const line = rawLine.trimStart();
    if (line === '' || line.startsWith('#')) return;
    const where = `--env-file ${file.path}:${index + 1}`;
    const { name } = checkEntry(line, where);
    if (/\s/.test(name)) throw new NboxError('ERR_NBOX_USAGE', `${where}: variable '${name}' contains whitespaces`);
    // Values pass through untrimmed, as Docker does.
    entries.push(line);
  });
  return entries;
}

// setFromUser applies a -e or env-file entry; a bare NAME copies the host value,
// or is dropped when the host has none.
function setFromUser(env: Map<string, string>, entry: string, hostEnv: NodeJS.ProcessEnv): void {
  const equals = entry.indexOf('=');
  if (equals >= 0) {
    env.set(entry.slice(0, equals), entry.slice(equals + 1));
    return;
  }
  const hostValue = hostEnv[entry];
  // A bare NAME the host does not have unsets NAME, image value included
  // (moby's ReplaceOrAppendEnvValues).
  if (hostValue === undefined) env.delete(entry);
  else env.set(entry, hostValue);
}

// checkEntry rejects what execve cannot carry or runc refuses: NUL bytes and empty names.
function checkEntry(entry: string, where: string): { name: string; value?: string } {
  const equals = entry.indexOf('=');
  const name = equals >= 0 ? entry.slice(0, equals) : entry;
  if (name === '') throw new NboxError('ERR_NBOX_USAGE', `${where}: variable name is empty`);
  if (entry.includes('\0')) {
    throw new NboxError('ERR_NBOX_USAGE', `${where}: variable ${name.replaceAll('\0', '\\0')} contains a NUL byte`);
  }
  return equals >= 0 ? { name, value: entry.slice(equals + 1) } : { name };
}

/** readEnvFile reads an --env-file; a missing one is Docker's one line. */
export function readEnvFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new NboxError('ERR_NBOX_USAGE', `open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}
