// Short options written with "=" (`-t=name`), read as Docker's flag parser
// reads them: the "=" separates, it is not part of the value. Commander would
// give `-t=name` the value "=name". Likewise a boolean's `--flag=false`.
import { Command, type Option } from 'commander';

/** NboxCommand is commander's Command that reads `-x=value` as `-x value`; the
 * verbs it creates are NboxCommands too, so every verb reads options alike. */
export class NboxCommand extends Command {
  override createCommand(name?: string): Command {
    return new NboxCommand(name);
  }

  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    return super.parseOptions(withoutShortEquals(this, args));
  }
}

// boolEquals reads Docker's `--flag=true|false` of a boolean option as `--flag` or `--no-flag`.
function boolEquals(arg: string, find: (flag: string) => Option | undefined): string {
  const [, name, value] = /^(--[^=]+)=(true|false)$/.exec(arg) ?? [];
  const option = name === undefined ? undefined : find(name);
  if (!option || option.required || option.optional) return arg;
  if (value === 'true') return name!;
  const negated = `--no-${name!.slice(2)}`;
  return find(negated) ? negated : arg;
}

/** withoutShortEquals returns args with `-x=value` (and `-abx=value`) rewritten
 * to `-xvalue` for every short option x of cmd that takes a value. It walks the
 * options as commander does and stops where commander stops reading this
 * command's options, so a container's own arguments are left as they are. */
export function withoutShortEquals(cmd: Command, args: string[]): string[] {
  const find = (flag: string): Option | undefined => cmd.options.find((o) => o.short === flag || o.long === flag);
  const takesValue = (o: Option) => o.required || o.optional;
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    const arg = out[i]!;
    if (arg === '--') break;
    const exact = arg.startsWith('-') ? find(arg) : undefined;
    if (exact) {
      if (exact.required) i++;
      continue;
    }
    if (/^-[^-]/.test(arg)) {
      // A group of short flags: booleans, then at most one that takes the rest as its value.
      let k = 1;
      while (k < arg.length) {
        const option = find(`-${arg[k]}`);
        if (!option) break;
        if (takesValue(option)) {
          if (arg[k + 1] === '=') out[i] = arg.slice(0, k + 1) + arg.slice(k + 2);
          break;
        }
        k++;
      }
      continue;
    }
    if (arg.startsWith('--')) {
      out[i] = boolEquals(arg, find);
      continue;
    }
    // An operand: a verb of the program, or the first argument of a verb that passes the rest through.
    const passThrough = (cmd as unknown as { _passThroughOptions: boolean })._passThroughOptions;
    if (passThrough || cmd.commands.some((c) => c.name() === arg || c.aliases().includes(arg))) break;
  }
  return out;
}
