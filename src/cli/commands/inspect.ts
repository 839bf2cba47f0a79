// `nbox inspect NAME...`: containers first, then images, as Docker looks them up.
import type { Command } from 'commander';

import { NboxError } from '../../errors';
import type { CliContext } from '../context';
import { renderValue } from '../template';
import { writeOut } from '../stdout';

/** registerInspect adds `inspect`. */
export function registerInspect(program: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .description('Return low-level information on containers and images')
    .argument('<names...>', 'container or image names or IDs')
    .option('-f, --format <format>', "format the output using a Go template ('{{.State.Status}}', '{{json .Config}}')")
    .option('-s, --size', 'display total file sizes if the type is container')
    .option('--type <type>', 'only look for this type: container or image')
    .action(async (names: string[], flags: { type?: string; format?: string; size?: boolean }) => {
      if (flags.type && flags.type !== 'container' && flags.type !== 'image') {
        throw new NboxError('ERR_NBOX_USAGE', `"${flags.type}" is not a valid value for --type`);
      }
      const nbox = await ctx.open();
      const found: unknown[] = [];
      const missing: string[] = [];
      for (const name of names) {
        const container = flags.type === 'image' ? null : await nbox.inspectContainer(name, { size: flags.size }).catch(notFound);
        const image = container || flags.type === 'container' ? null : await nbox.inspectImage(name).catch(notFound);
        if (container ?? image) found.push(container ?? image);
        else missing.push(name);
      }
      if (flags.format === undefined) writeOut(`${JSON.stringify(found, null, 4)}\n`);
      else for (const object of found) writeOut(`${renderValue(flags.format, object)}\n`);
      if (missing.length) {
        throw new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `No such object: ${missing.join(', ')}`);
      }
    });
}

function notFound(err: unknown): null {
  const code = (err as NboxError).code;
  if (code === 'ERR_NBOX_NO_SUCH_IMAGE' || code === 'ERR_NBOX_NO_SUCH_CONTAINER') return null;
  throw err;
}
