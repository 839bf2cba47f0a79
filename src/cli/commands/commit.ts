// `nbox commit [-a] [-c]… [-m] [-p] CONTAINER [REPOSITORY[:TAG]]`: an image from a container's changes.
import { Option, type Command } from 'commander';

import { collect, exitingOne, type CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerCommit adds `commit`. */
export function registerCommit(program: Command, ctx: CliContext): void {
  program
    .command('commit')
    .description("Create a new image from a container's changes")
    .argument('<container>', 'container name or ID')
    .argument('[reference]', 'REPOSITORY[:TAG] to tag the image with')
    .option('-a, --author <author>', 'author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the created image (repeatable)', collect, [])
    .option('-m, --message <message>', 'commit message')
    .option('-p, --pause', 'pause container during commit (default true; --pause=false to copy it running)', true)
    .addOption(new Option('--no-pause').hideHelp())
    .action(exitingOne(async (ref: string, reference: string | undefined, flags: { author?: string; change: string[]; message?: string; pause: boolean }) => {
      const nbox = await ctx.open();
      const id = await nbox.commitContainer(ref, { changes: flags.change, message: flags.message, author: flags.author, reference, pause: flags.pause });
      writeOut(`${id}\n`);
    }));
}
