// `nbox ps`: Docker's CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES table.
import type { Command } from 'commander';

import type { ContainerRecord } from '../../api';
import type { CliContext } from '../context';
import { ellipsis, humanDuration, since, table } from '../format';

/** registerPs adds `ps`. */
export function registerPs(program: Command, ctx: CliContext): void {
  program
    .command('ps')
    .description('List containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only display container IDs')
    .option('--no-trunc', "don't truncate output")
    .action(async (flags: { all?: boolean; quiet?: boolean; trunc: boolean }) => {
      const nbox = await ctx.open();
      const containers = await nbox.listContainers({ all: flags.all });
      const id = (full: string) => (flags.trunc ? full.slice(0, 12) : full);
      if (flags.quiet) {
        if (containers.length) process.stdout.write(`${containers.map((c) => id(c.config.id)).join('\n')}\n`);
        return;
      }
      const now = new Date();
      const rows = containers.map((c) => {
        const command = c.config.argv.join(' ');
        return [
          id(c.config.id),
          c.config.imageRef,
          `"${flags.trunc ? ellipsis(command, 20) : command}"`,
          since(new Date(c.config.created), now),
          status(c, now),
          '',
          c.config.name,
        ];
      });
      process.stdout.write(`${table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows)}\n`);
    });
}

function status(c: ContainerRecord, now: Date): string {
  const { state } = c;
  if (state.status === 'running') return `Up ${humanDuration(now.getTime() - Date.parse(state.startedAt))}`;
  if (state.status === 'exited') return `Exited (${state.exitCode}) ${since(new Date(state.finishedAt), now)}`;
  return 'Created';
}
