// `nbox attach CONTAINER`: the caller's terminal joined to a running -d
// container through its monitor, as `docker attach`: its output here, typed
// input there (the caller's terminal raw while attached, restored on every
// exit), resizes followed, the detach keys leave it running, and its exit
// code is ours when it ends while attached.
import type { Command } from 'commander';

import { EXIT_FAILED, withExitCode, type CliContext } from '../context';
import type { AttachSession } from '../../api';
import { followSession, outputTo } from '../attached';
import { checkDetachKeys } from '../tty';

interface AttachFlags {
  stdin: boolean;
  detachKeys?: string;
  sigProxy: boolean;
}

/** registerAttach adds `attach`. */
export function registerAttach(program: Command, ctx: CliContext): void {
  program
    .command('attach')
    .description("Attach local standard input, output, and error streams to a running container")
    .argument('<container>', 'container name or ID')
    .option('--no-stdin', 'do not attach STDIN')
    .option('--detach-keys <keys>', 'override the key sequence for detaching a container (default ctrl-p,ctrl-q)')
    .option('--sig-proxy [bool]', 'proxy all received signals to the process (non-TTY mode only)', (value: string) => value !== 'false', true)
    .action(async (ref: string, flags: AttachFlags) => {
      checkDetachKeys(flags.detachKeys);
      const nbox = await ctx.open();
      const record = await nbox.containerRecord(ref);
      const tty = record.config.tty ?? false;
      const stdin = flags.stdin && (record.config.openStdin ?? false);
      let session: AttachSession;
      try {
        session = await nbox.attachContainer(ref, {
          stdin,
          stdout: outputTo(process.stdout),
          stderr: outputTo(process.stderr),
        });
      } catch (err) {
        throw withExitCode(err, EXIT_FAILED);
      }
      await followSession(nbox, ref, session, { tty, stdin, detachKeys: flags.detachKeys ?? '', sigProxy: !tty && flags.sigProxy });
    });
}
