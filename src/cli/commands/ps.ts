// `nbox ps`: Docker's CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES table,
// its filters, -n/-l, and --format.
import { InvalidArgumentError, type Command } from 'commander';

import { healthStatus, listedCommand, psPorts, psStatus, since, stateName, type ContainerRecord } from '../../api';
import { collect, type CliContext } from '../context';
import { ellipsis } from '../format';
import { labelMethod, renderFormat, type Row } from '../template';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  trunc: boolean;
  latest?: boolean;
  last?: number;
  filter: string[];
  format?: string;
}

// The table header of each --format field, as the docker CLI names them.
const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES', HealthStatus: 'HEALTH STATUS', Label: 'LABEL',
};
const DEFAULT_FORMAT = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';

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
    .option('--no-trunc', "don't truncate output")
    .action(async (flags: PsFlags) => {
      const nbox = await ctx.open();
      const last = flags.latest ? 1 : flags.last;
      const containers = await nbox.listContainers({ all: flags.all, filters: flags.filter, last: last === -1 ? undefined : last });
      const now = new Date();
      const rows = containers.map((c) => psRow(c, now, flags.trunc));
      const format = flags.quiet ? '{{.ID}}' : flags.format ?? DEFAULT_FORMAT;
      const text = renderFormat(format, rows, HEADERS);
      if (text !== '' || format.startsWith('table')) process.stdout.write(`${text}\n`);
    });
}

/** psRow is a container's --format fields, as the docker CLI fills them. */
function psRow(c: ContainerRecord, now: Date, trunc: boolean): Row {
  const { config, state } = c;
  const command = listedCommand(config.argv);
  return {
    Command: JSON.stringify(trunc ? ellipsis(command, 20) : command),
    CreatedAt: createdAt(new Date(config.created)),
    // As the API gives it from v1.52: `none` without a health check.
    HealthStatus: healthStatus(state),
    ID: trunc ? config.id.slice(0, 12) : config.id,
    Image: config.imageRef,
    Label: labelMethod(config.labels),
    Labels: Object.entries(config.labels).map(([key, value]) => `${key}=${value}`).join(','),
    LocalVolumes: '0',
    Mounts: '',
    Names: config.name,
    Networks: config.network,
    Ports: psPorts(c),
    // The API gives the creation time in whole seconds.
    RunningFor: since(new Date(Math.trunc(Date.parse(config.created) / 1000) * 1000), now),
    Size: '0B',
    State: stateName(state),
    Status: psStatus(state, now),
  };
}

// Go's time.Time String() in UTC, as `docker ps --format {{.CreatedAt}}` prints it.
function createdAt(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

function parseCount(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`invalid argument "${value}" for "-n, --last" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}
