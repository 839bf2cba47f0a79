// `nbox kill [-s SIGNAL] CONTAINER...`.
import type { Command } from 'commander';

import { forEachRef, type CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerKill adds `kill`. */
export function registerKill(program: Command, ctx: CliContext): void {
  program
    .command('kill')
    .description('Kill one or more running containers')
    .argument('<containers...>', 'container names or IDs')
    .option('-s, --signal <signal>', 'signal to send to the container', 'KILL')
    .action(async (refs: string[], flags: { signal: string }) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        await nbox.killContainer(ref, flags.signal);
        writeOut(`${ref}\n`);
      });
    });
}
