// `nbox stats [CONTAINER...]`: Docker's live table of CPU %, MEM USAGE / LIMIT, MEM %, NET I/O,
// BLOCK I/O and PIDS, refreshed every second, or printed once with --no-stream.
import type { Command } from 'commander';

import type { ContainerStats } from '../../api';
import type { CliContext } from '../context';
import { binarySize, humanSize, shortId, table } from '../format';
import { renderFormat } from '../template';
import { writeOut } from '../stdout';

interface StatsFlags {
  all?: boolean;
  stream: boolean;
  trunc: boolean;
  format?: string;
}

// The table header of each --format field, as the docker CLI names them.
const HEADERS: Record<string, string> = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
/** The default table's columns, as `table {{.ID}}\\t{{.Name}}\\t…` prints them: laid out here, no template run. */
const DEFAULT_COLUMNS = ['ID', 'Name', 'CPUPerc', 'MemUsage', 'MemPerc', 'NetIO', 'BlockIO', 'PIDs'];
/** The docker CLI's refresh: a sample a second, the screen cleared before each table. */
const STREAM_INTERVAL_MS = 1000;
const CLEAR_SCREEN = '\u001b[2J\u001b[H';

/** registerStats adds `stats`. */
export function registerStats(program: Command, ctx: CliContext): void {
  program
    .command('stats')
    .description('Display a live stream of container(s) resource usage statistics')
    .argument('[containers...]', 'container names or IDs (default: every running container)')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--no-trunc', "don't truncate output")
    .option('--format <format>', "format output using a Go template ('{{.Name}} {{.CPUPerc}}', 'table ...', or json)")
    .action(async (refs: string[], flags: StatsFlags) => {
      const nbox = await ctx.open();
      const { format } = flags;
      const print = (stats: ContainerStats[], refsShown: string[]) => {
        const rows = stats.map((s, i) => statsRow(s, refsShown[i] ?? s.id, flags.trunc));
        if (format === undefined) return `${table(DEFAULT_COLUMNS.map((name) => HEADERS[name]), rows.map((row) => DEFAULT_COLUMNS.map((name) => row[name])))}\n`;
        const text = renderFormat(format, rows, HEADERS);
        return rows.length > 0 || format.startsWith('table') ? `${text}\n` : '';
      };
      if (!flags.stream) {
        // One reading, no wait: each CPU % is over the container's life so far.
        writeOut(print(await nbox.containerStats(refs, { all: flags.all }), refs));
        return;
      }
      for (;;) {
        const stats = await nbox.containerStats(refs, { all: flags.all, intervalMs: STREAM_INTERVAL_MS });
        writeOut(CLEAR_SCREEN + print(stats, refs));
      }
    });
}

/** statsRow is a container's --format fields, as the docker CLI's stats formatter fills them. */
function statsRow(s: ContainerStats, ref: string, trunc: boolean): Record<string, string> {
  return {
    Container: trunc && ref === s.id ? shortId(ref) : ref,
    ID: trunc ? shortId(s.id) : s.id,
    Name: s.name,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${binarySize(s.memoryUsage)} / ${binarySize(s.memoryLimit)}`,
    MemPerc: `${s.memoryPercent.toFixed(2)}%`,
    NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
    PIDs: String(s.pids),
  };
}
