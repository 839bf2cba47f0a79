// `nbox save IMAGE... [-o FILE] [--format docker|oci]` and `nbox load [-i FILE] [-q]`.
import type { Command } from 'commander';

import { NboxError } from '../../errors';
import { exitingOne, openInput, type CliContext } from '../context';
import { writeOut } from '../stdout';
import { removeTempOnSignal } from '../interrupt';

const FORMATS = ['docker', 'oci'] as const;

/** registerSave adds `save` and `load`. */
export function registerSave(program: Command, ctx: CliContext): void {
  program
    .command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<image...>', 'image names or IDs; a name without a tag saves all its tags')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .option('--format <format>', 'docker (docker-archive and OCI layout) or oci (OCI layout, gzip layers)', 'docker')
    .action(exitingOne(async (refs: string[], flags: { output?: string; format: string }) => {
      if (!(FORMATS as readonly string[]).includes(flags.format)) throw new NboxError('ERR_NBOX_USAGE', `unknown --format ${JSON.stringify(flags.format)}: use docker or oci`);
      if (!flags.output && process.stdout.isTTY) throw new NboxError('ERR_NBOX_USAGE', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const nbox = await ctx.open();
      const archive = await nbox.saveImages(refs, { format: flags.format as (typeof FORMATS)[number] });
      await (await import('../output-file')).writeOutput(flags.output, archive);
    }));

  program
    .command('load')
    .description('Load images from a tar archive (docker-archive or OCI layout, gzip or not) or STDIN')
    .option('-i, --input <file>', 'read from a file, instead of STDIN')
    .option('-q, --quiet', 'suppress the load output')
    .action(async (flags: { input?: string; quiet?: boolean }) => {
      if (!flags.input && process.stdin.isTTY) throw new NboxError('ERR_NBOX_USAGE', 'requested load from stdin, but stdin is empty');
      const nbox = await ctx.open();
      removeTempOnSignal(nbox);
      const loaded = await nbox.loadImages(await openInput(flags.input ?? '-'));
      if (flags.quiet) return;
      for (const image of loaded) {
        if (image.tags.length === 0) writeOut(`Loaded image ID: ${image.id}\n`);
        for (const tag of image.tags) writeOut(`Loaded image: ${tag}\n`);
      }
    });
}
