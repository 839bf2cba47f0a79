// The nbox program: Docker's verbs over the library API, wired to the store
// named by --root / NBOX_ROOT.
import type { Command } from 'commander';

import { EXIT_USAGE, globalOptions, withExitCode, type CliContext } from './context';
import { NboxCommand } from './short-options';
import { registerBuild } from './commands/build';
import { registerExec } from './commands/exec';
import { registerCommit } from './commands/commit';
import { registerCp } from './commands/cp';
import { registerDiff } from './commands/diff';
import { registerExport } from './commands/export';
import { registerHistory } from './commands/history';
import { registerImages } from './commands/images';
import { registerImport } from './commands/import';
import { registerInspect } from './commands/inspect';
import { registerLogs } from './commands/logs';
import { registerPause } from './commands/pause';
import { registerPort } from './commands/port';
import { registerPs } from './commands/ps';
import { registerBuilder, registerContainer } from './commands/prune';
import { registerKill } from './commands/kill';
import { registerManagement } from './commands/management';
import { registerRename } from './commands/rename';
import { registerRm } from './commands/rm';
import { registerRmi } from './commands/rmi';
import { registerRegistry } from './commands/registry';
import { registerRun } from './commands/run';
import { registerSave } from './commands/save';
import { registerAttach } from './commands/attach';
import { registerStart } from './commands/start';
import { registerStop } from './commands/stop';
import { registerSystem } from './commands/system';
import { registerTag } from './commands/tag';
import { registerTop } from './commands/top';
import { registerStats } from './commands/stats';
import { registerUpdate } from './commands/update';
import { registerVersion } from './commands/version';
import { registerVolume } from './commands/volume';
import { registerNetwork } from './commands/network';
import { registerWait } from './commands/wait';
import { registerServe } from './commands/serve';

/** buildProgram makes the program; ctx defaults to opening the store --root names. */
export function buildProgram(context?: CliContext): Command {
  const program = new NboxCommand('nbox')
    .description('A daemonless container runtime and image builder')
    .option('--root <dir>', 'store directory (default: $NBOX_ROOT or /var/lib/nbox)')
    .option('--debug', 'print the cause chain of errors')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text.startsWith('error: ') ? `nbox: ${text.slice(7)}` : text) });
  const ctx: CliContext = context ?? {
    open: async (options) => {
      const { Nbox } = await import('../api');
      // A store nbox cannot open (no root, not a store, corrupt) fails every verb as bad usage would.
      return Nbox.open({ ...options, root: globalOptions(program).root }).catch((err: unknown) => {
        throw withExitCode(err, EXIT_USAGE);
      });
    },
  };
  for (const register of [registerBuild, registerRun, registerExec, registerImport, registerImages, registerTag, registerRmi, registerInspect, registerLogs, registerPort, registerPs, registerRm, registerRename, registerKill, registerStop, registerStart, registerAttach, registerWait, registerTop, registerStats, registerUpdate, registerPause, registerContainer, registerBuilder, registerHistory, registerExport, registerCp, registerDiff, registerCommit, registerSave, registerRegistry, registerSystem, registerVersion, registerServe, registerVolume, registerNetwork, registerManagement]) {
    register(program, ctx);
  }
  program.commands.forEach((cmd) => cmd.exitOverride());
  return program;
}
