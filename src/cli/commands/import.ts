// `nbox import FILE|- [REPOSITORY[:TAG]]`: a rootfs tarball becomes a one-layer image.
import type { Command } from 'commander';

import { collect, openInput, type CliContext } from '../context';
import { writeOut } from '../stdout';
import { removeTempOnSignal } from '../interrupt';

/** registerImport adds `import`. */
export function registerImport(program: Command, ctx: CliContext): void {
  program
    .command('import')
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<file>', 'tarball path, or - for stdin')
    .argument('[reference]', 'REPOSITORY[:TAG] to tag the image with')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the image (repeatable)', collect, [])
    .option('-m, --message <message>', 'set the commit message for the imported image')
    .action(async (file: string, reference: string | undefined, flags: { change: string[]; message?: string }) => {
      const nbox = await ctx.open();
      removeTempOnSignal(nbox);
      const input = await openInput(file);
      const id = await nbox.importImage(input, {
        tags: reference ? [reference] : [],
        changes: flags.change,
        message: flags.message ?? (file === '-' ? undefined : `Imported from ${file}`),
      });
      writeOut(`${id}\n`);
    });
}
