// `nbox stop [-t SECONDS] [-s SIGNAL] CONTAINER...`.
import { InvalidArgumentError, type Command } from 'commander';

import { forEachRef, type CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerStop adds `stop`. */
export function registerStop(program: Command, ctx: CliContext): void {
  program
    .command('stop')
    .description('Stop one or more running containers')
    .argument('<containers...>', 'container names or IDs')
    .option('-s, --signal <signal>', "signal to send to the container (default: the image's STOPSIGNAL, else SIGTERM)")
    .option('-t, --time <seconds>', 'seconds to wait before killing the container', parseSeconds)
    .action(async (refs: string[], flags: { signal?: string; time?: number }) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        await nbox.stopContainer(ref, { signal: flags.signal, timeout: flags.time });
        writeOut(`${ref}\n`);
      });
    });
}

/** parseSeconds reads -t/--time as Docker does. */
export function parseSeconds(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`invalid argument "${value}" for "-t, --time" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}
