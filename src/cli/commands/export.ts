// `nbox export CONTAINER [-o FILE]`: the container's filesystem as a tar.
import type { Command } from 'commander';

import { NboxError } from '../../errors';
import { exitingOne, type CliContext } from '../context';

/** registerExport adds `export`. */
export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description("Export a container's filesystem as a tar archive")
    .argument('<container>', 'container name or ID')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .action(exitingOne(async (ref: string, flags: { output?: string }) => {
      if (!flags.output && process.stdout.isTTY) {
        throw new NboxError('ERR_NBOX_USAGE', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      const nbox = await ctx.open();
      const tar = await nbox.exportContainer(ref);
      // Loaded here: only export and save write archives.
      await (await import('../output-file')).writeOutput(flags.output, tar);
    }));
}
