// `nbox rmi IMAGE...`: untag, and delete images nothing else names or uses.
import type { Command } from 'commander';

import { forEachRef, type CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerRmi adds `rmi`. */
export function registerRmi(program: Command, ctx: CliContext): void {
  program
    .command('rmi')
    .description('Remove one or more images')
    .argument('<images...>', 'image names or IDs')
    .option('-f, --force', 'force removal of the image')
    .action(async (refs: string[], flags: { force?: boolean }) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        const result = await nbox.removeImage(ref, { force: flags.force });
        for (const name of result.untagged) writeOut(`Untagged: ${name}\n`);
        for (const id of result.deleted) writeOut(`Deleted: ${id}\n`);
      });
    });
}
