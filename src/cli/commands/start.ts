// `nbox start CONTAINER...` and `nbox restart [-t SECONDS] CONTAINER...`: the
// container runs again in the background, under a new monitor.
import type { Command } from 'commander';

import { forEachRef, type CliContext } from '../context';
import { parseSeconds } from './stop';

/** registerStart adds `start` and `restart`. */
export function registerStart(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('Start one or more stopped containers')
    .argument('<containers...>', 'container names or IDs')
    .action(async (refs: string[]) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        await nbox.startContainer(ref);
        process.stdout.write(`${ref}\n`);
      });
    });
  program
    .command('restart')
    .description('Restart one or more containers')
    .argument('<containers...>', 'container names or IDs')
    .option('-s, --signal <signal>', "signal to stop the container with (default: the image's STOPSIGNAL, else SIGTERM)")
    .option('-t, --time <seconds>', 'seconds to wait before killing the container', parseSeconds)
    .action(async (refs: string[], flags: { signal?: string; time?: number }) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        await nbox.restartContainer(ref, { signal: flags.signal, timeout: flags.time });
        process.stdout.write(`${ref}\n`);
      });
    });
}
