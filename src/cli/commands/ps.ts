// `nbox ps`: Docker's CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES table,
// its filters, -n/-l, -s and --format.
import { InvalidArgumentError, Option, type Command } from 'commander';

import { collect, type CliContext } from '../context';
import { CONTAINER_HEADERS, containerRow, psFormat } from '../container-rows';
import { formatUsesField, renderFormat } from '../template';
import { writeOut } from '../stdout';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  size?: boolean;
  trunc: boolean;
  latest?: boolean;
  last?: number;
  filter: string[];
  format?: string;
}

/** registerPs adds `ps`. */
export function registerPs(program: Command, ctx: CliContext): void {
  program
    .command('ps')
    .description('List containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-f, --filter <filter>', 'filter output based on conditions provided (id, name, label, status, ancestor, exited, health, volume, network, before, since, publish)', collect, [])
    .option('--format <format>', "format output using a Go template ('{{.ID}} {{.Names}}', 'table ...', or json)")
    .option('-n, --last <n>', 'show n last created containers (includes all states)', parseCount)
    .option('-l, --latest', 'show the latest created container (includes all states)')
    .option('-q, --quiet', 'only display container IDs')
    .option('-s, --size', 'display total file sizes')
    // --size=false: no sizes, even for a format that shows .Size.
    .addOption(new Option('--no-size').hideHelp())
    .option('--no-trunc', "don't truncate output")
    .action(async (flags: PsFlags) => {
      if (flags.quiet && flags.format) process.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
      // Sizes walk each container's writable layer: only for -s, or a format that shows them (as the docker CLI asks).
      const size = !flags.quiet && (flags.size ?? (!!flags.format && formatUsesField(flags.format, 'Size')));
      const nbox = await ctx.open();
      const last = flags.latest ? 1 : flags.last;
      const containers = await nbox.listContainers({ all: flags.all, filters: flags.filter, last: last === -1 ? undefined : last, size });
      const now = new Date();
      const rows = containers.map((c) => containerRow(c, now, flags.trunc));
      const format = psFormat(flags.format, !!flags.quiet, size);
      const text = renderFormat(format, rows, CONTAINER_HEADERS);
      // A row that renders empty is still a line, as the docker CLI prints it.
      if (rows.length > 0 || format.startsWith('table')) writeOut(`${text}\n`);
    });
}

function parseCount(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`invalid argument "${value}" for "-n, --last" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}
