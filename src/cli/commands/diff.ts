// `nbox diff CONTAINER`: the A/C/D lines of what the container changed in its image.
import type { Command } from 'commander';

import type { CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerDiff adds `diff`. */
export function registerDiff(program: Command, ctx: CliContext): void {
  program
    .command('diff')
    .description("Inspect changes to files or directories on a container's filesystem")
    .argument('<container>', 'container name or ID')
    .action(async (ref: string) => {
      const nbox = await ctx.open();
      const changes = await nbox.diffContainer(ref);
      writeOut(changes.map((change) => `${change.kind} ${change.path}\n`).join(''));
    });
}
