// The functions a Docker --format template may call: Go's builtins (len, index,
// print*, the comparisons, not; and/or are exec's, as they short-circuit) and
// the docker CLI's own (json, split, join, title, lower, upper, pad, truncate).
import { NO_VALUE, goPrint, goType, sortedEntries, sprint, sprintf, sprintln } from './print';

/** TemplateFunc is a callable function: how many arguments it takes, and its body. */
export interface TemplateFunc {
  min: number;
  /** max is undefined for a variadic function. */
  max?: number;
  call(args: unknown[]): unknown;
}
export type FuncMap = Record<string, TemplateFunc>;

/** ArgTypeError is an argument of the wrong type, which Go reports without "error calling". */
export class ArgTypeError extends Error {}
/** CallError is the error a function returned: "error calling NAME: ...". */
export class CallError extends Error {}

/** isTrue is Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function isTrue(value: unknown): boolean {
  if (value === null || value === undefined || value === NO_VALUE) return false;
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  if (value instanceof Map) return value.size > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return value !== 0 && value !== false;
}

function str(value: unknown): string {
  if (typeof value === 'string') return value;
  throw new ArgTypeError(value === null || value === NO_VALUE ? 'invalid value; expected string' : `wrong type for value; expected string; got ${goType(value)}`);
}

function int(value: unknown): number {
  if (Number.isInteger(value)) return value as number;
  throw new ArgTypeError(value === null || value === NO_VALUE ? 'invalid value; expected int' : `wrong type for value; expected int; got ${goType(value)}`);
}

const fixed = (count: number, call: (args: unknown[]) => unknown): TemplateFunc => ({ min: count, max: count, call });
const variadic = (min: number, call: (args: unknown[]) => unknown): TemplateFunc => ({ min, call });

type Kind = 'bool' | 'number' | 'string' | 'nil' | 'other';
function kindOf(value: unknown): Kind {
  if (value === null || value === undefined || value === NO_VALUE) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return typeof value as Kind;
  return 'other';
}

// equal is one of eq's comparisons: basic values of one kind, nil only to nil.
function equal(a: unknown, b: unknown): boolean {
  const [ka, kb] = [kindOf(a), kindOf(b)];
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka === 'other' || kb === 'other') throw new CallError(`non-comparable type ${goPrint(ka === 'other' ? a : b)}: ${goType(ka === 'other' ? a : b)}`);
  if (ka !== kb) throw new CallError('incompatible types for comparison');
  return a === b;
}

// less orders two numbers or two strings.
function less(a: unknown, b: unknown): boolean {
  const [ka, kb] = [kindOf(a), kindOf(b)];
  if (ka !== 'number' && ka !== 'string') throw new CallError('invalid type for comparison');
  if (ka !== kb) throw new CallError(kb === 'number' || kb === 'string' ? 'incompatible types for comparison' : 'invalid type for comparison');
  return (a as number | string) < (b as number | string);
}

// zeroOf is what Go's index gives for a key a map lacks: its element type's zero value,
// "" for the string maps (labels, options), nil for the rest.
function zeroOf(map: object): unknown {
  return sortedEntries(map).every(([, item]) => typeof item === 'string') ? '' : null;
}

function index(item: unknown, keys: unknown[]): unknown {
  if (item === null || item === undefined || item === NO_VALUE) throw new CallError('index of untyped nil');
  for (const key of keys) {
    if (item === null || item === NO_VALUE) throw new CallError('index of nil pointer');
    if (Array.isArray(item) || typeof item === 'string') {
      if (!Number.isInteger(key)) throw new CallError(`cannot index slice/array with ${kindOf(key) === 'nil' ? 'nil' : `type ${goType(key)}`}`);
      const bytes = typeof item === 'string' ? Buffer.from(item) : item;
      if ((key as number) < 0 || (key as number) >= bytes.length) throw new CallError(`index out of range: ${key as number}`);
      item = bytes[key as number];
    } else if (item instanceof Map || typeof item === 'object') {
      if (typeof key !== 'string') throw new CallError(`value has type ${goType(key)}; should be string`);
      const found = item instanceof Map ? item.get(key) : Object.hasOwn(item, key) ? (item as Record<string, unknown>)[key] : undefined;
      item = found === undefined ? zeroOf(item) : found;
    } else {
      throw new CallError(`can't index item of type ${goType(item)}`);
    }
  }
  return item;
}

function length(item: unknown): number {
  if (item === null || item === undefined || item === NO_VALUE) throw new CallError('len of nil pointer');
  if (typeof item === 'string') return Buffer.byteLength(item);
  if (Array.isArray(item)) return item.length;
  if (typeof item === 'object') return sortedEntries(item).length;
  throw new CallError(`len of type ${goType(item)}`);
}

// toJson is the docker CLI's json: encoding/json without HTML escaping.
function toJson(value: unknown): string {
  const plain = (item: unknown): unknown => (item instanceof Map ? Object.fromEntries(item) : item === NO_VALUE || item === undefined ? null : item);
  return JSON.stringify(plain(value), (_key, item: unknown) => plain(item));
}

/** BUILTINS are Go's text/template functions and the docker CLI's. */
export const BUILTINS: FuncMap = {
  not: fixed(1, ([value]) => !isTrue(value)),
  len: fixed(1, ([item]) => length(item)),
  index: variadic(1, ([item, ...keys]) => index(item, keys)),
  print: variadic(0, sprint),
  printf: variadic(1, ([format, ...args]) => sprintf(str(format), args)),
  println: variadic(0, sprintln),
  eq: variadic(1, ([first, ...others]) => {
    if (others.length === 0) throw new CallError('missing argument for comparison');
    return others.some((other) => equal(first, other));
  }),
  ne: fixed(2, ([a, b]) => !equal(a, b)),
  lt: fixed(2, ([a, b]) => less(a, b)),
  le: fixed(2, ([a, b]) => less(a, b) || equal(a, b)),
  gt: fixed(2, ([a, b]) => less(b, a)),
  ge: fixed(2, ([a, b]) => !less(a, b)),
  json: fixed(1, ([value]) => toJson(value)),
  split: fixed(2, ([text, sep]) => (str(sep) === '' ? [...str(text)] : str(text).split(str(sep)))),
  join: fixed(2, ([items, sep]) => {
    if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) throw new ArgTypeError(`wrong type for value; expected []string; got ${goType(items)}`);
    return items.join(str(sep));
  }),
  title: fixed(1, ([text]) => str(text).replace(/(^|[^\p{L}\p{N}'’])(\p{L})/gu, (_all, before: string, letter: string) => before + letter.toUpperCase())),
  lower: fixed(1, ([text]) => str(text).toLowerCase()),
  upper: fixed(1, ([text]) => str(text).toUpperCase()),
  pad: fixed(3, ([text, prefix, suffix]) => (str(text) === '' ? '' : ' '.repeat(Math.max(int(prefix), 0)) + str(text) + ' '.repeat(Math.max(int(suffix), 0)))),
  truncate: fixed(2, ([text, size]) => {
    const chars = [...str(text)];
    if (int(size) < 0) throw new CallError(`slice bounds out of range [:${size as number}]`);
    return chars.length < int(size) ? str(text) : chars.slice(0, int(size)).join('');
  }),
};

/** HEADER_FUNCS are the docker CLI's: in a table's header row its functions give back their header unchanged. */
export const HEADER_FUNCS: FuncMap = {
  ...BUILTINS,
  json: fixed(1, ([text]) => str(text)),
  split: fixed(2, ([text, sep]) => (str(sep), str(text))),
  join: fixed(2, ([text, sep]) => (str(sep), str(text))),
  title: fixed(1, ([text]) => str(text)),
  lower: fixed(1, ([text]) => str(text)),
  upper: fixed(1, ([text]) => str(text)),
  pad: fixed(3, ([text, prefix, suffix]) => (int(prefix), int(suffix), str(text))),
  truncate: fixed(2, ([text, size]) => (int(size), str(text))),
};
