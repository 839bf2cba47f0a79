// `nbox tag SOURCE TARGET`.
import type { Command } from 'commander';

import { exitingOne, type CliContext } from '../context';

/** registerTag adds `tag`. */
export function registerTag(program: Command, ctx: CliContext): void {
  program
    .command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG]')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(exitingOne(async (source: string, target: string) => {
      const nbox = await ctx.open();
      await nbox.tag(source, target);
    }));
}
