// `nbox image prune`, `nbox container prune` and `nbox builder prune`: Docker's confirmation prompt,
// its "Deleted …:" list and the total reclaimed space.
import type { Command } from 'commander';

import type { CliContext } from '../context';
import { humanSize } from '../format';
import { writeOut } from '../stdout';

/** addImagePrune adds `prune` to the `image` command. */
export function addImagePrune(image: Command, ctx: CliContext): void {
  image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (flags: { all?: boolean; force?: boolean }) => {
      const warning = flags.all
        ? 'WARNING! This will remove all images without at least one container associated to them.'
        : 'WARNING! This will remove all dangling images.';
      if (!flags.force && !(await confirm(warning))) return;
      const nbox = await ctx.open();
      const result = await nbox.pruneImages({ all: flags.all });
      const lines = result.deleted.map((item) => ('untagged' in item ? `untagged: ${item.untagged}` : `deleted: ${item.deleted}`));
      report('Deleted Images:', lines, result.spaceReclaimed);
    });
}

/** registerContainer adds `container prune`. */
export function registerContainer(program: Command, ctx: CliContext): void {
  program
    .command('container')
    .description('Manage containers')
    .command('prune')
    .description('Remove all stopped containers')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (flags: { force?: boolean }) => {
      if (!flags.force && !(await confirm('WARNING! This will remove all stopped containers.'))) return;
      const nbox = await ctx.open();
      const result = await nbox.pruneContainers();
      report('Deleted Containers:', result.deleted, result.spaceReclaimed);
    });
}

/** registerBuilder adds `builder prune`. */
export function registerBuilder(program: Command, ctx: CliContext): void {
  program
    .command('builder')
    .description('Manage builds')
    .command('prune')
    .description('Remove build cache: the step cache and RUN cache mounts')
    .option('-a, --all', 'accepted for Docker: nbox removes all of its build cache either way')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (flags: { all?: boolean; force?: boolean }) => {
      const warning = flags.all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
      if (!flags.force && !(await confirm(warning))) return;
      const nbox = await ctx.open();
      const result = await nbox.pruneBuildCache();
      report('Deleted build cache objects:', result.deleted, result.spaceReclaimed);
    });
}

/** confirm asks on stdout and reads one line of stdin, terminal or not, as
 * Docker does: only "y" or "Y" goes on; end of input is "no". */
export async function confirm(warning: string): Promise<boolean> {
  writeOut(`${warning}\nAre you sure you want to continue? [y/N] `);
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: process.stdin, terminal: false });
  const answer = await new Promise<string>((resolveAnswer) => {
    lines.once('line', resolveAnswer);
    lines.once('close', () => resolveAnswer(''));
  });
  lines.close();
  process.stdin.destroy();
  return answer.trim() === 'y' || answer.trim() === 'Y';
}

/** report prints a prune's deleted objects under heading, and the space reclaimed. */
export function report(heading: string, lines: string[], spaceReclaimed: number): void {
  if (lines.length > 0) writeOut(`${heading}\n${lines.join('\n')}\n\n`);
  writeOut(`Total reclaimed space: ${humanSize(spaceReclaimed, 4)}\n`);
}
