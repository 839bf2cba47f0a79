// Instruction flags (`COPY --from=build --link`), validated as BuildKit's
// instructions/bflag.go does: `--name=value`, bare `--name` only for booleans.

import { DockerfileError } from '../errors';
import { didYouMean } from './suggest';

/** FlagKind is how a flag takes its value: a boolean, one string, or a string each time it is repeated. */
export type FlagKind = 'bool' | 'string' | 'strings';

/** FlagValues are an instruction's flags after validation. */
export class FlagValues {
  constructor(private readonly values: ReadonlyMap<string, string[]>) {}

  /** string is the value of a string flag, or undefined if it was not given. */
  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  /** bool is the value of a boolean flag, or undefined if it was not given. */
  bool(name: string): boolean | undefined {
    const value = this.values.get(name)?.[0];
    return value === undefined ? undefined : value === 'true';
  }

  /** strings are every value of a repeatable flag, in order. */
  strings(name: string): string[] {
    return this.values.get(name) ?? [];
  }
}

/** parseFlags checks flags against the instruction's known ones and collects their values. */
export function parseFlags(keyword: string, flags: readonly string[], known: Readonly<Record<string, FlagKind>>, line: number): FlagValues {
  const fail = (message: string) => new DockerfileError({ line, message });
  const values = new Map<string, string[]>();
  for (const flag of flags) {
    const equals = flag.indexOf('=');
    const flagName = equals < 0 ? flag : flag.slice(0, equals);
    const value = equals < 0 ? undefined : flag.slice(equals + 1);
    const name = flagName.slice(2);
    const kind = Object.hasOwn(known, name) ? known[name] : undefined;
    if (kind === undefined) {
      const names = Object.keys(known).map((option) => `--${option}`);
      throw fail(`unknown flag for ${keyword}: ${flagName}${didYouMean(flagName, names, true)}`);
    }
    if (values.has(name) && kind !== 'strings') throw fail(`duplicate flag specified: ${flagName}`);
    if (kind === 'bool') {
      // A bare boolean flag means true; `--link=` is a mistake, not false.
      if (value === '') throw fail(`missing a value on flag: ${flagName}`);
      const normalized = (value ?? 'true').toLowerCase();
      if (normalized !== 'true' && normalized !== 'false') throw fail(`expecting boolean value for flag ${flagName}, not: ${value}`);
      values.set(name, [normalized]);
    } else {
      if (value === undefined) throw fail(`missing a value on flag: ${flagName}`);
      values.set(name, [...(values.get(name) ?? []), value]);
    }
  }
  return new FlagValues(values);
}
