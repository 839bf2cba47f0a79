// `nbox system df`: Docker's disk usage table, and with -v its listing item by item.
import type { Command } from 'commander';

import type { UsageLine } from '../../api';
import type { CliContext } from '../context';
import { humanSize, table } from '../format';
import { writeOut } from '../stdout';

/** registerSystem adds `system df`. */
export function registerSystem(program: Command, ctx: CliContext): void {
  program
    .command('system')
    .description('Manage nbox')
    .command('df')
    .description('Show disk usage')
    .option('-v, --verbose', 'show detailed information on space usage')
    .action(async (flags: { verbose?: boolean }) => {
      const nbox = await ctx.open();
      if (flags.verbose) {
        const { verboseDiskUsage } = await import('../disk-usage-verbose');
        writeOut(`${await verboseDiskUsage(nbox)}\n`);
        return;
      }
      const [usage, volumes] = await Promise.all([nbox.diskUsage(), nbox.volumes.usage()]);
      const rows = ([['Images', usage.images, true], ['Containers', usage.containers, true], ['Local Volumes', volumes, true], ['Build Cache', usage.buildCache, false]] as const)
        .map(([type, line, percent]) => [type, String(line.total), String(line.active), humanSize(line.size, 4), reclaimable(line, percent)]);
      writeOut(`${table(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], rows)}\n`);
    });
}

// As Docker's formatter: a whole percentage of the size, except for the build cache.
function reclaimable(line: UsageLine, percent: boolean): string {
  const size = humanSize(line.reclaimable, 4);
  return percent && line.size > 0 ? `${size} (${Math.floor((line.reclaimable * 100) / line.size)}%)` : size;
}
