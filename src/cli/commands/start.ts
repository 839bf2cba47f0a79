// `nbox start [-a] [-i] CONTAINER...` and `nbox restart [-t SECONDS] CONTAINER...`:
// the container runs again in the background, under a new monitor; with -a or -i
// this process is attached to it from before its command runs (no output is
// missed) and exits with its exit code, as `docker start -a`.
import type { Command } from 'commander';

import { EXIT_FAILED, forEachRef, withExitCode, type CliContext } from '../context';
import { NboxError } from '../../errors';
import { followSession, outputTo } from '../attached';
import { checkDetachKeys, terminalSize } from '../tty';
import { parseSeconds } from './stop';
import { writeOut } from '../stdout';

interface StartFlags {
  attach?: boolean;
  interactive?: boolean;
  detachKeys?: string;
}

/** registerStart adds `start` and `restart`. */
export function registerStart(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('Start one or more stopped containers')
    .argument('<containers...>', 'container names or IDs')
    .option('-a, --attach', "attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "attach container's STDIN")
    .option('--detach-keys <keys>', 'override the key sequence for detaching a container (default ctrl-p,ctrl-q)')
    .action(async (refs: string[], flags: StartFlags) => {
      if (!flags.attach && !flags.interactive) {
        const nbox = await ctx.open();
        await forEachRef(refs, async (ref) => {
          await nbox.startContainer(ref);
          writeOut(`${ref}\n`);
        });
        return;
      }
      if (refs.length > 1) throw withExitCode(new NboxError('ERR_NBOX_USAGE', 'you cannot start and attach multiple containers at once'), EXIT_FAILED);
      checkDetachKeys(flags.detachKeys);
      const [ref] = refs;
      const nbox = await ctx.open();
      const record = await nbox.containerRecord(ref);
      const tty = record.config.tty ?? false;
      const stdin = (flags.interactive ?? false) && (record.config.openStdin ?? false);
      const session = await nbox.startContainer(ref, {
        stdin,
        size: terminalSize(),
        stdout: outputTo(process.stdout),
        stderr: outputTo(process.stderr),
      }).catch((err: unknown) => {
        throw withExitCode(err, EXIT_FAILED);
      });
      if (session) await followSession(nbox, ref, session, { tty, stdin, detachKeys: flags.detachKeys ?? '', sigProxy: !tty });
    });
  program
    .command('restart')
    .description('Restart one or more containers')
    .argument('<containers...>', 'container names or IDs')
    .option('-s, --signal <signal>', "signal to stop the container with (default: the image's STOPSIGNAL, else SIGTERM)")
    .option('-t, --time <seconds>', 'seconds to wait before killing the container', parseSeconds)
    .action(async (refs: string[], flags: { signal?: string; time?: number }) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        await nbox.restartContainer(ref, { signal: flags.signal, timeout: flags.time });
        writeOut(`${ref}\n`);
      });
    });
}
