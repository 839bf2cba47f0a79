// `nbox container snapshot [-t SECONDS] [-s SIGNAL] CONTAINER` and
// `nbox container restore [--to N] CONTAINER` (issue 14; no Docker verb).
import { InvalidArgumentError, type Command } from 'commander';

import type { CliContext } from '../context';
import { parseSeconds } from './stop';
import { writeOut } from '../stdout';

/** registerSnapshot adds `snapshot` and `restore`, for the `container` group. */
export function registerSnapshot(program: Command, ctx: CliContext): void {
  program
    .command('snapshot')
    .description("Keep a container's files as they are, for restore to go back to (prints the snapshot's number)")
    .argument('<container>', 'container name or ID')
    .option('-s, --signal <signal>', "signal that stops a running container first (default: the image's STOPSIGNAL, else SIGTERM)")
    .option('-t, --time <seconds>', 'seconds to wait before killing it', parseSeconds)
    .action(async (ref: string, flags: { signal?: string; time?: number }) => {
      const nbox = await ctx.open();
      const taken = await nbox.snapshotContainer(ref, { signal: flags.signal, timeout: flags.time });
      writeOut(`${taken.id}\n`);
    });
  program
    .command('restore')
    .description("Bring a container's files back to its newest snapshot (a running one is started again)")
    .argument('<container>', 'container name or ID')
    .option('--to <snapshot>', 'the snapshot to go back to, dropping later ones (0: the image)', parseSnapshot)
    .action(async (ref: string, flags: { to?: number }) => {
      const nbox = await ctx.open();
      await nbox.restoreContainer(ref, flags.to);
      writeOut(`${ref}\n`);
    });
}

function parseSnapshot(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError(`invalid snapshot number "${value}"`);
  return Number(value);
}
