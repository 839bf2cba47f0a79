// `nbox pause CONTAINER...` and `nbox unpause CONTAINER...`.
import type { Command } from 'commander';

import { forEachRef, type CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerPause adds `pause` and `unpause`. */
export function registerPause(program: Command, ctx: CliContext): void {
  for (const [verb, paused] of [['pause', true], ['unpause', false]] as const) {
    program
      .command(verb)
      .description(paused ? 'Pause all processes within one or more containers' : 'Unpause all processes within one or more containers')
      .argument('<containers...>', 'container names or IDs')
      .action(async (refs: string[]) => {
        const nbox = await ctx.open();
        await forEachRef(refs, async (ref) => {
          await (paused ? nbox.pauseContainer(ref) : nbox.unpauseContainer(ref));
          writeOut(`${ref}\n`);
        });
      });
  }
}
