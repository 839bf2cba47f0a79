// `nbox images [REPOSITORY[:TAG]]` and `nbox image ls`: Docker's REPOSITORY
// TAG IMAGE ID CREATED SIZE table.
import type { Command } from 'commander';

import type { CliContext } from '../context';
import { since } from '../../api';
import { humanSize, shortId, table } from '../format';
import { addImagePrune } from './prune';

interface ListFlags {
  all?: boolean;
  quiet?: boolean;
  trunc: boolean;
}

/** registerImages adds `images`, `image ls` and `image prune`. */
export function registerImages(program: Command, ctx: CliContext): void {
  listImages(program.command('images'), ctx);
  const image = program.command('image').description('Manage images');
  listImages(image.command('ls').alias('list'), ctx);
  addImagePrune(image, ctx);
}

function listImages(command: Command, ctx: CliContext): void {
  command
    .description('List images')
    .argument('[repository]', 'only images named REPOSITORY[:TAG] (a shell pattern, as in Docker)')
    .option('-a, --all', 'show all images (default hides intermediate images)')
    .option('-q, --quiet', 'only show image IDs')
    .option('--no-trunc', "don't truncate output")
    .action(async (reference: string | undefined, flags: ListFlags) => {
      const nbox = await ctx.open();
      const images = (await nbox.images({ all: flags.all, reference })).sort((a, b) => b.created.getTime() - a.created.getTime());
      const id = (full: string) => (flags.trunc ? shortId(full) : full);
      if (flags.quiet) {
        const ids = [...new Set(images.map((image) => id(image.id)))];
        if (ids.length) process.stdout.write(`${ids.join('\n')}\n`);
        return;
      }
      const { splitReference } = await import('../../api');
      const now = new Date();
      const rows: string[][] = [];
      for (const image of images) {
        const names = image.tags.length ? image.tags.map(splitReference) : [{ repository: '<none>', tag: '<none>' }];
        for (const name of names) {
          rows.push([name.repository, name.tag ?? '<none>', id(image.id), since(image.created, now), humanSize(image.size)]);
        }
      }
      process.stdout.write(`${table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows)}\n`);
    });
}
