// `RUN --mount=type=cache,target=/root/.cache` parsed into typed mounts, with
// BuildKit's keys, aliases, defaults and checks (instructions/commands_runmount.go).
// Values stay unexpanded; expandMount substitutes them when the step runs.

import { DockerfileError } from '../errors';
import { didYouMean } from './suggest';

/** RunMount is one `--mount` of a RUN step. */
export type RunMount = BindMount | CacheMount | TmpfsMount | SecretMount | SshMount;

/** BindMount shows a directory of the context, a stage or an image (`type=bind,source=src,target=/src[,from=stage][,rw]`); read-only unless rw. */
export interface BindMount {
  type: 'bind';
  target: string;
  source?: string;
  from?: string;
  readOnly: boolean;
}

/** CacheMount is a directory kept across builds (`type=cache,target=/root/.cache[,id=x][,sharing=locked][,mode=0755,uid=0,gid=0]`). */
export interface CacheMount {
  type: 'cache';
  target: string;
  id?: string;
  source?: string;
  from?: string;
  readOnly: boolean;
  sharing: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
}

/** TmpfsMount is an empty tmpfs (`type=tmpfs,target=/tmp[,size=64m]`). */
export interface TmpfsMount {
  type: 'tmpfs';
  target: string;
  sizeBytes?: number;
}

/** SecretMount exposes a build secret as a file or an env variable (`type=secret,id=tok[,target=/run/secrets/tok][,env=TOK][,required]`). */
export interface SecretMount {
  type: 'secret';
  /** id defaults to the target's base name; target to /run/secrets/ID unless env is given. */
  id?: string;
  target?: string;
  env?: string;
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** SshMount forwards an SSH agent socket (`type=ssh[,id=default][,target=/run/buildkit/ssh_agent.0][,required]`). */
export interface SshMount {
  type: 'ssh';
  id?: string;
  target?: string;
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
const SHARING_MODES = ['shared', 'private', 'locked'] as const;
const KEY_ALIASES: Readonly<Record<string, string>> = {
  src: 'source',
  dst: 'target',
  destination: 'target',
  ro: 'readonly',
  rw: 'readwrite',
};
const ALL_KEYS = ['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env'];
// Keys each type accepts besides type, readonly and readwrite (which BuildKit accepts, and ignores, for any type).
const KEYS_BY_TYPE: Readonly<Record<RunMount['type'], readonly string[]>> = {
  bind: ['target', 'source', 'from'],
  cache: ['target', 'id', 'source', 'from', 'sharing', 'mode', 'uid', 'gid'],
  tmpfs: ['target', 'size'],
  secret: ['id', 'source', 'target', 'env', 'required', 'mode', 'uid', 'gid'],
  ssh: ['id', 'target', 'required', 'mode', 'uid', 'gid'],
};
const SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;

/** parseMount reads one `--mount` value; errors are DockerfileErrors at line. */
export function parseMount(spec: string, line: number): RunMount {
  const fail = (message: string) => new DockerfileError({ line, message });
  const options = new Map<string, string>();
  let readOnly: boolean | undefined;
  for (const field of splitCsv(spec, line)) {
    const equals = field.indexOf('=');
    const written = (equals < 0 ? field : field.slice(0, equals)).toLowerCase();
    if (!ALL_KEYS.includes(written)) throw fail(`unexpected key '${written}' in '${field}'${didYouMean(written, ALL_KEYS, true)}`);
    const key = KEY_ALIASES[written] ?? written;
    const value = equals < 0 ? undefined : field.slice(equals + 1);
    if (value === undefined && key !== 'readonly' && key !== 'readwrite' && key !== 'required') {
      throw fail(`invalid field '${field}' must be a key=value pair`);
    }
    if (key === 'readonly' || key === 'readwrite') {
      const flag = value === undefined ? true : parseGoBool(value);
      if (flag === undefined) throw fail(`invalid value for ${written}: ${value}`);
      readOnly = key === 'readonly' ? flag : !flag;
    } else {
      options.set(key, value ?? 'true');
    }
  }
  const type = (options.get('type') ?? 'bind').toLowerCase();
  if (!isMountType(type)) throw fail(`unsupported mount type ${JSON.stringify(options.get('type'))}${didYouMean(type, MOUNT_TYPES, true)}`);
  for (const key of options.keys()) {
    if (key !== 'type' && !KEYS_BY_TYPE[type].includes(key)) {
      if (key === 'mode' || key === 'uid' || key === 'gid') throw fail(`${key} not allowed for "${type}" type mounts`);
      if (key === 'sharing') throw fail(`invalid cache sharing set for ${type} mount`);
      throw fail(`unexpected key '${key}' for mount type '${type}'`);
    }
  }
  const from = options.get('from');
  if (from !== undefined && /\$(?!$)/.test(from)) throw fail("'from' doesn't support variable expansion, define alias stage instead");
  const text = (key: string) => options.get(key);
  const number = (key: string, radix: 8 | 10) => {
    const value = options.get(key);
    if (value === undefined) return undefined;
    const parsed = radix === 8 ? /^[0-7]+$/.test(value) && parseInt(value, 8) : /^\d+$/.test(value) && parseInt(value, 10);
    if (parsed === false || parsed > 0xffffffff) throw fail(`invalid value ${value} for ${key}`);
    return parsed;
  };
  const required = () => {
    const value = options.get('required');
    if (value === undefined) return false;
    const flag = parseGoBool(value);
    if (flag === undefined) throw fail(`invalid value for required: ${value}`);
    return flag;
  };
  const target = () => {
    const value = options.get('target');
    if (value === undefined || value === '') throw fail(`mount type ${type} requires a target`);
    return value;
  };
  switch (type) {
    case 'bind':
      return { type, target: target(), source: text('source'), from, readOnly: readOnly ?? true };
    case 'cache': {
      const sharing = (options.get('sharing') ?? 'shared').toLowerCase();
      if (!isSharingMode(sharing)) throw fail(`unsupported sharing value ${JSON.stringify(options.get('sharing'))}${didYouMean(sharing, SHARING_MODES, true)}`);
      return { type, target: target(), id: text('id'), source: text('source'), from, readOnly: readOnly ?? false, sharing, mode: number('mode', 8), uid: number('uid', 10), gid: number('gid', 10) };
    }
    case 'tmpfs':
      return { type, target: target(), sizeBytes: parseSize(options.get('size'), fail) };
    case 'secret': {
      const id = text('id');
      const source = text('source');
      if (id !== undefined && source !== undefined) throw fail("both source and id can't be set");
      if (id === undefined && source === undefined && text('target') === undefined) throw fail('invalid secret mount. one of source, target required');
      return { type, id: id ?? source, target: text('target'), env: text('env'), required: required(), mode: number('mode', 8), uid: number('uid', 10), gid: number('gid', 10) };
    }
    case 'ssh':
      return { type, id: text('id'), target: text('target'), required: required(), mode: number('mode', 8), uid: number('uid', 10), gid: number('gid', 10) };
  }
}

/** expandMount substitutes variables in a mount's text values (not `from`, which BuildKit keeps literal). */
export function expandMount<T extends RunMount>(mount: T, expandValue: (value: string) => string): T {
  const expanded: T = { ...mount };
  const fields = expanded as unknown as Record<string, unknown>;
  for (const key of ['target', 'source', 'id', 'env']) {
    const value = fields[key];
    if (typeof value === 'string') fields[key] = expandValue(value);
  }
  return expanded;
}

function isMountType(type: string): type is RunMount['type'] {
  return (MOUNT_TYPES as readonly string[]).includes(type);
}

function isSharingMode(mode: string): mode is CacheMount['sharing'] {
  return (SHARING_MODES as readonly string[]).includes(mode);
}

// parseGoBool accepts what Go's strconv.ParseBool does.
function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

// parseSize reads a tmpfs size as docker/go-units RAMInBytes does: 64m, 1.5GiB, 512k (powers of 1024).
function parseSize(value: string | undefined, fail: (message: string) => DockerfileError): number | undefined {
  if (value === undefined) return undefined;
  const match = SIZE.exec(value);
  if (!match) throw fail(`invalid value for size: ${value}`);
  const power = match[2] ? 'kmgtp'.indexOf(match[2].toLowerCase()) + 1 : 0;
  return Math.floor(Number(match[1]) * 1024 ** power);
}

// splitCsv splits one CSV record: fields at commas, "quoted" fields may hold commas and "" for a quote.
function splitCsv(text: string, line: number): string[] {
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    let field = '';
    if (text[pos] === '"') {
      pos++;
      for (;;) {
        if (pos >= text.length) throw new DockerfileError({ line, message: `failed to parse csv mounts: extraneous or missing " in quoted-field` });
        if (text[pos] === '"' && text[pos + 1] === '"') {
          field += '"';
          pos += 2;
        } else if (text[pos] === '"') {
          pos++;
          break;
        } else {
          field += text[pos++];
        }
      }
      if (pos < text.length && text[pos] !== ',') throw new DockerfileError({ line, message: `failed to parse csv mounts: extraneous or missing " in quoted-field` });
    } else {
      const end = text.indexOf(',', pos);
      field = text.slice(pos, end < 0 ? text.length : end);
      if (field.includes('"')) throw new DockerfileError({ line, message: `failed to parse csv mounts: bare " in non-quoted-field` });
      pos += field.length;
    }
    fields.push(field);
    if (pos >= text.length) return fields;
    pos++;
  }
}
