// `nbox rename CONTAINER NEW_NAME`.
import type { Command } from 'commander';

import type { CliContext } from '../context';

/** registerRename adds `rename`. */
export function registerRename(program: Command, ctx: CliContext): void {
  program
    .command('rename')
    .description('Rename a container')
    .argument('<container>', 'container name or ID')
    .argument('<new-name>', 'the new name')
    .action(async (ref: string, newName: string) => {
      await (await ctx.open()).renameContainer(ref, newName);
    });
}
