// `nbox top CONTAINER [ps OPTIONS]`.
import type { Command } from 'commander';

import type { CliContext } from '../context';
import { table } from '../format';
import { writeOut } from '../stdout';

/** registerTop adds `top`. */
export function registerTop(program: Command, ctx: CliContext): void {
  program
    .command('top')
    .description('Display the running processes of a container')
    .argument('<container>', 'container name or ID')
    .argument('[ps-options...]', 'options for ps (default -ef)')
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (ref: string, psArgs: string[]) => {
      const { titles, processes } = await (await ctx.open()).topContainer(ref, psArgs.length ? psArgs : undefined);
      writeOut(`${table(titles, processes)}\n`);
    });
}
