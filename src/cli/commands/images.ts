// `nbox images [REPOSITORY[:TAG]]` and `nbox image ls`: Docker's REPOSITORY
// TAG IMAGE ID CREATED SIZE table.
import type { Command } from 'commander';

import { collect, type CliContext } from '../context';
import { since, type ImageRecord } from '../../api';
import { humanSize, shortId } from '../format';
import { goTimeString } from '../local-time';
import { renderFormat, type Row } from '../template';
import { addImagePrune } from './prune';
import { writeOut } from '../stdout';

interface ListFlags {
  all?: boolean;
  quiet?: boolean;
  trunc: boolean;
  digests?: boolean;
  filter: string[];
  format?: string;
}

// The table header of each --format field, as the docker CLI names them.
const HEADERS: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', VirtualSize: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS',
};
const DEFAULT_FORMAT = 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}';
const DIGESTS_FORMAT = 'table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}';

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
    .option('--digests', 'show digests')
    .option('-f, --filter <filter>', 'filter output based on conditions provided (dangling, label, reference, before, since)', collect, [])
    .option('--format <format>', "format output using a Go template ('{{.Repository}}:{{.Tag}}', 'table ...', or json)")
    .action(async (reference: string | undefined, flags: ListFlags) => {
      const nbox = await ctx.open();
      const images = (await nbox.images({ all: flags.all, reference, filters: flags.filter })).sort((a, b) => b.created.getTime() - a.created.getTime());
      const id = (full: string) => (flags.trunc ? shortId(full) : full);
      if (flags.quiet) {
        const ids = [...new Set(images.map((image) => id(image.id)))];
        if (ids.length) writeOut(`${ids.join('\n')}\n`);
        return;
      }
      const { splitReference } = await import('../../api');
      const now = new Date();
      const rows = images.flatMap((image) => {
        const names = image.tags.length ? image.tags.map(splitReference) : [{ repository: '<none>', tag: '<none>' }];
        return names.map((name) => imageRow(image, name.repository, name.tag ?? '<none>', id(image.id), now));
      });
      const format = flags.format ?? (flags.digests ? DIGESTS_FORMAT : DEFAULT_FORMAT);
      const text = renderFormat(format, rows, HEADERS);
      if (rows.length > 0 || format.startsWith('table')) writeOut(`${text}\n`);
    });
}

/** imageRow is one name of an image as the docker CLI's --format fields fill it. */
function imageRow(image: ImageRecord, repository: string, tag: string, id: string, now: Date): Row {
  const digest = image.repoDigests.find((name) => name.startsWith(`${repository}@`))?.split('@')[1] ?? '<none>';
  const size = humanSize(image.size);
  return {
    ID: id, Repository: repository, Tag: tag, Digest: digest, CreatedSince: since(image.created, now),
    CreatedAt: goTimeString(image.created),
    Size: size, VirtualSize: size, SharedSize: 'N/A', UniqueSize: 'N/A', Containers: 'N/A',
  };
}
