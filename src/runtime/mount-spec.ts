// `-v` and `--mount` as the docker CLI and daemon read them: one MountSpec per
// flag, or Docker's error line. Pure: nothing is looked up or created here, so
// a bad flag is refused before the store changes.
import { posix, resolve as resolvePath } from 'node:path';

import { NboxError } from '../errors';
import type { Propagation } from '../sys/addon';

/** MountType is Docker's Mounts[].Type. */
export type MountType = 'bind' | 'volume' | 'tmpfs';

/** MountSpec is one mount of a container, as recorded with it. */
export interface MountSpec {
  type: MountType;
  /** bind: the host path; volume: the volume's name ('' until an anonymous one is named); tmpfs: ''. */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readonly: boolean;
  /** Docker's Mounts[].Mode: the mode text `-v` was given ('z' for a volume without one), '' for `--mount`. */
  mode: string;
  /** Docker's Mounts[].Propagation of a bind: as asked, rprivate when not ('' for others). */
  propagation: Propagation | '';
  /** volume-nocopy / `:nocopy`: a new volume does not get the image's content. */
  noCopy?: boolean;
  /** A -v bind: a missing host path is made (a `--mount` bind's must exist). */
  createHostPath?: boolean;
  /** An anonymous volume: `rm -v` and `--rm` remove it. */
  anonymous?: boolean;
  /** tmpfs-size in bytes and tmpfs-mode (permission bits). */
  tmpfsSize?: number;
  tmpfsMode?: number;
}

/** ParsedMount is a flag's mount and the notes to show about options nbox takes but does not apply (:z, :Z). */
export interface ParsedMount {
  mount: MountSpec;
  notes: string[];
}

/** PROPAGATIONS are the propagation modes Docker takes. */
export const PROPAGATIONS: readonly Propagation[] = ['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave'];

// The modes -v takes, by category: at most one of each in a spec.
const RW_MODES = ['rw', 'ro'];
const LABEL_MODES = ['z', 'Z'];
const COPY_MODES = ['nocopy'];

/** parseVolumeFlag reads `-v [SOURCE:]TARGET[:MODE]` as Docker's linux parser: SOURCE an absolute
 * (or ./-relative, made absolute here as the docker CLI does) host path for a bind, else a volume name. */
export function parseVolumeFlag(spec: string, cwd = process.cwd()): ParsedMount {
  const parts = spec.split(':');
  if (parts.some((part) => part === '')) throw invalidSpec(spec);
  let source = '';
  let target: string;
  let mode = '';
  if (parts.length === 1) {
    target = parts[0];
  } else if (parts.length === 2) {
    // TARGET:MODE is no volume: a volume cannot take a mode without a source.
    if (validMode(parts[1])) throw invalidSpec(spec);
    [source, target] = parts;
  } else if (parts.length === 3) {
    [source, target, mode] = parts;
  } else {
    throw invalidSpec(spec);
  }
  if (!validMode(mode)) throw usage(`invalid mode: ${mode}`);
  if (source.startsWith('.')) source = resolvePath(cwd, source);
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  const modes = mode === '' ? [] : mode.split(',');
  const propagation = PROPAGATIONS.find((p) => modes.includes(p)) ?? '';
  if (propagation && type !== 'bind') throw usage(`invalid mount config for type "volume": invalid propagation mode: ${propagation}`);
  if (modes.includes('nocopy') && type !== 'volume') throw usage(`invalid mount config for type "bind": invalid mode: ${mode}`);
  checkTarget(type, target);
  const notes: string[] = [];
  if (modes.some((m) => LABEL_MODES.includes(m))) notes.push(`-v ${spec}: the SELinux relabel option :z/:Z is ignored (nbox does not label files)`);
  return {
    mount: {
      type,
      source,
      target,
      readonly: modes.includes('ro'),
      // The daemon gives a -v volume the label mode z when none was asked.
      mode: type === 'volume' && mode === '' ? 'z' : mode,
      propagation: type === 'bind' ? propagation || 'rprivate' : '',
      ...(modes.includes('nocopy') ? { noCopy: true } : {}),
      ...(type === 'bind' ? { createHostPath: true } : {}),
      ...(source === '' ? { anonymous: true } : {}),
    },
    notes,
  };
}

/** parseMountFlag reads `--mount type=…,src=…,dst=…,…` as the docker CLI's csv reader and the daemon's checks do. */
export function parseMountFlag(spec: string, cwd = process.cwd()): ParsedMount {
  const bad = (message: string) => usage(`invalid argument "${spec}" for "--mount" flag: ${message}`);
  let type = '';
  let source = '';
  let target = '';
  let readonly = false;
  let askedPropagation: string | undefined;
  let noCopy: boolean | undefined;
  let tmpfsSize: number | undefined;
  let tmpfsMode: number | undefined;
  for (const field of splitCsv(spec, bad)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') readonly = true;
      else if (key === 'volume-nocopy') noCopy = true;
      else throw bad(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type': type = value; break;
      case 'source': case 'src':
        source = value === '.' || value.startsWith('./') ? resolvePath(cwd, value) : value;
        break;
      case 'target': case 'dst': case 'destination': target = value; break;
      case 'readonly': case 'ro': readonly = parseGoBool(value, () => bad(`invalid value for ${key}: ${value}`)); break;
      case 'bind-propagation': askedPropagation = value.toLowerCase(); break;
      case 'volume-nocopy': noCopy = parseGoBool(value, () => bad(`invalid value for volume-nocopy: ${value}`)); break;
      case 'tmpfs-size': {
        const size = ramInBytes(value);
        if (size === null) throw bad(`invalid value for ${key}: ${value}`);
        tmpfsSize = size;
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(value) || parseInt(value, 8) > 0xffffffff) throw bad(`invalid value for ${key}: ${value}`);
        tmpfsMode = parseInt(value, 8);
        break;
      }
      default: throw bad(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type === '') throw bad('type is required');
  if (target === '') throw bad('target is required');
  if (noCopy !== undefined && type !== 'volume') throw bad(`cannot mix 'volume-*' options with mount type '${type}'`);
  if (askedPropagation !== undefined && type !== 'bind') throw bad(`cannot mix 'bind-*' options with mount type '${type}'`);
  if ((tmpfsSize !== undefined || tmpfsMode !== undefined) && type !== 'tmpfs') throw bad(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw usage(`invalid mount config for type "${type}": mount type unknown`);
  if (type === 'bind' && source === '') throw usage('invalid mount config for type "bind": field Source must not be empty');
  if (type === 'tmpfs' && source !== '') throw usage('invalid mount config for type "tmpfs": field Source must not be specified');
  if (type === 'bind' && !source.startsWith('/')) throw usage(`invalid mount config for type "bind": invalid mount path: '${source}' mount path must be absolute`);
  const propagation = askedPropagation === undefined ? 'rprivate' : parsePropagation(askedPropagation);
  checkTarget(type, target);
  return {
    mount: {
      type,
      source,
      target,
      readonly,
      mode: '',
      propagation: type === 'bind' ? propagation : '',
      ...(noCopy ? { noCopy: true } : {}),
      ...(type === 'volume' && source === '' ? { anonymous: true } : {}),
      ...(tmpfsSize !== undefined ? { tmpfsSize } : {}),
      ...(tmpfsMode !== undefined ? { tmpfsMode } : {}),
    },
    notes: [],
  };
}

/** parseVolumesFrom reads `--volumes-from CONTAINER[:ro|:rw]`: the container, and the mode that overrides its mounts' (or none). */
export function parseVolumesFrom(spec: string): { container: string; readonly?: boolean } {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return { container: spec };
  const mode = spec.slice(colon + 1);
  if (!validMode(mode) || mode.split(',').some((m) => !RW_MODES.includes(m))) throw usage(`invalid mode: ${mode}`);
  return { container: spec.slice(0, colon), readonly: mode === 'ro' };
}

/** tmpfsOptions is the mount data of a `--mount type=tmpfs`: Docker's defaults are no size limit and mode 1777. */
export function tmpfsOptions(mount: MountSpec): string {
  const options = [`mode=${(mount.tmpfsMode ?? 0o1777).toString(8)}`];
  if (mount.tmpfsSize !== undefined && mount.tmpfsSize > 0) options.push(`size=${mount.tmpfsSize}`);
  return options.join(',');
}

// parsePropagation is a bind's bind-propagation value.
function parsePropagation(value: string): Propagation {
  if (!(PROPAGATIONS as readonly string[]).includes(value)) throw usage(`invalid mount config for type "bind": invalid propagation mode: ${value}`);
  return value as Propagation;
}

// validMode: a comma list with at most one of rw/ro, z/Z, nocopy and one propagation, nothing else.
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0];
  for (const m of mode.split(',')) {
    const category = [RW_MODES, LABEL_MODES, COPY_MODES, PROPAGATIONS as readonly string[]].findIndex((modes) => modes.includes(m));
    if (category < 0 || ++counts[category] > 1) return false;
  }
  return true;
}

function checkTarget(type: MountType, target: string): void {
  if (!target.startsWith('/')) throw usage(`invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
  if (posix.normalize(target) === '/') throw usage(`invalid mount config for type "${type}": invalid specification: destination can't be '/'`);
}

// splitCsv splits one csv record as Go's encoding/csv does: quotes group commas.
function splitCsv(text: string, bad: (message: string) => NboxError): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"' && field === '') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  if (quoted) throw bad(`parse error on line 1, column ${text.length + 1}: extraneous or missing " in quoted-field`);
  fields.push(field);
  return fields;
}

// parseGoBool accepts what Go's strconv.ParseBool does.
function parseGoBool(value: string, bad: () => NboxError): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw bad();
}

/** ramInBytes reads a size as go-units RAMInBytes: a number with an optional binary unit (k, m, g…, with i and b optional); null when invalid. */
export function ramInBytes(text: string): number | null {
  const match = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!match) return null;
  const number = Number(match[1]);
  if (Number.isNaN(number)) return null;
  const power = match[2] ? 'kmgtp'.indexOf(match[2].toLowerCase()) + 1 : 0;
  return Math.floor(number * 1024 ** power);
}

function invalidSpec(spec: string): NboxError {
  return usage(`invalid volume specification: '${spec}'`);
}

function usage(message: string): NboxError {
  return new NboxError('ERR_NBOX_USAGE', message);
}
