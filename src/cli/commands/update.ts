// `nbox update [OPTIONS] CONTAINER...`: new limits and restart policy; each container's reference is printed once done.
import type { Command } from 'commander';

import { resourcesFromFlags, type ResourceFlags } from '../../api';
import { forEachRef, type CliContext } from '../context';
import { NboxError } from '../../errors';
import { addResourceFlags } from '../resource-flags';
import { writeOut } from '../stdout';

interface UpdateFlags extends ResourceFlags {
  restart?: string;
}

/** registerUpdate adds `update`. */
export function registerUpdate(program: Command, ctx: CliContext): void {
  addResourceFlags(program.command('update'), true)
    .description('Update configuration of one or more containers')
    .argument('<containers...>', 'container names or IDs')
    .option('--restart <policy>', 'restart policy to apply when a container exits')
    .action(async (refs: string[], flags: UpdateFlags) => {
      const resources = resourcesFromFlags(flags);
      if (!resources && flags.restart === undefined) throw new NboxError('ERR_NBOX_USAGE', 'You must provide one or more flags when using this command.');
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        await nbox.updateContainer(ref, { resources, restart: flags.restart });
        writeOut(`${ref}\n`);
      });
    });
}
