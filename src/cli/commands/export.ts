// `nbox export CONTAINER [-o FILE]`: the container's filesystem as a tar.
import type { Command } from 'commander';
import { pipeline } from 'node:stream/promises';

import { NboxError } from '../../errors';
import type { CliContext } from '../context';
import { writeOutputFile } from '../output-file';

/** registerExport adds `export`. */
export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description("Export a container's filesystem as a tar archive")
    .argument('<container>', 'container name or ID')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .action(async (ref: string, flags: { output?: string }) => {
      if (!flags.output && process.stdout.isTTY) {
        throw new NboxError('ERR_NBOX_USAGE', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      const nbox = await ctx.open();
      const tar = await nbox.exportContainer(ref);
      await (flags.output ? writeOutputFile(flags.output, tar) : pipeline(tar, process.stdout));
    });
}
