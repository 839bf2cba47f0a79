// `--filter key=value` lists, as the docker CLI reads them (keys lowercased) and the daemon checks
// them: a list's keys must be known; a key's values are kept in the order given.
import { NboxError } from './errors';

/** FilterArgs maps a filter key to the values given for it. */
export type FilterArgs = Map<string, string[]>;

/** parseFilterArgs reads `key=value` specs; a spec without `=` or a key not in keys is Docker's one line.
 * A key ending in `!` (`label!=`) is named without it. */
export function parseFilterArgs(specs: string[], keys: readonly string[]): FilterArgs {
  const byKey: FilterArgs = new Map();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new NboxError('ERR_NBOX_USAGE', 'bad format of filter (expected name=value)');
    const key = spec.slice(0, eq).toLowerCase();
    if (!keys.includes(key)) throw new NboxError('ERR_NBOX_USAGE', `invalid filter '${key.replace(/!$/, '')}'`);
    byKey.set(key, [...(byKey.get(key) ?? []), spec.slice(eq + 1)]);
  }
  return byKey;
}
