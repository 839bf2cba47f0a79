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

type Register = (program: Command, ctx: CliContext) => void;

let openedApi: typeof import('../api') | undefined;

/** loadedApi is the library API once a command has opened the store, without loading it. */
export function loadedApi(): typeof import('../api') | undefined {
  return openedApi;
}

/** Each register function with the top-level commands it makes (registerManagement fills the two groups). */
const VERBS: [Register, string[]][] = [
  [registerBuild, ['build']], [registerRun, ['run', 'create']], [registerExec, ['exec']], [registerImport, ['import']],
  [registerImages, ['images', 'image']], [registerTag, ['tag']], [registerRmi, ['rmi']], [registerInspect, ['inspect']],
  [registerLogs, ['logs']], [registerPort, ['port']], [registerPs, ['ps']], [registerRm, ['rm']], [registerRename, ['rename']],
  [registerKill, ['kill']], [registerStop, ['stop']], [registerStart, ['start', 'restart']], [registerAttach, ['attach']],
  [registerWait, ['wait']], [registerTop, ['top']], [registerStats, ['stats']], [registerUpdate, ['update']],
  [registerPause, ['pause', 'unpause']], [registerContainer, ['container']], [registerBuilder, ['builder']],
  [registerHistory, ['history']], [registerExport, ['export']], [registerCp, ['cp']], [registerDiff, ['diff']],
  [registerCommit, ['commit']], [registerSave, ['save', 'load']], [registerRegistry, ['pull', 'push', 'login', 'logout']],
  [registerSystem, ['system']], [registerVersion, ['version']], [registerServe, ['serve']], [registerVolume, ['volume']],
  [registerNetwork, ['network']], [registerManagement, ['container', 'image']],
];

/** invokedCommand names the command argv runs (`nbox --root R ps` runs ps), or undefined when it runs none
 * or starts with an option the program itself answers (--help, --version, one it does not know). */
export function invokedCommand(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--root') i++;
    else if (arg !== '--debug' && !arg.startsWith('--root=')) return arg.startsWith('-') ? undefined : arg;
  }
  return undefined;
}

/** buildProgram makes the program; ctx defaults to opening the store --root names. Given the argv
 * it will parse, it makes only the command that argv runs, when it names one: building every
 * command's options is milliseconds of each start. Help, an unknown command and its suggestion
 * need them all. */
export function buildProgram(context?: CliContext, argv?: readonly string[]): Command {
  const program = new NboxCommand('nbox')
    .description('A daemonless container runtime and image builder')
    .option('--root <dir>', 'store directory (default: $NBOX_ROOT or /var/lib/nbox)')
    .option('--debug', 'print the cause chain of errors')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text.startsWith('error: ') ? `nbox: ${text.slice(7)}` : text) });
  const ctx: CliContext = context ?? {
    open: async (options) => {
      const api = await import('../api');
      openedApi = api;
      const { Nbox } = api;
      // A store nbox cannot open (no root, not a store, corrupt) fails every verb as bad usage would.
      return Nbox.open({ spareMonitor: false, ...options, root: globalOptions(program).root }).catch((err: unknown) => {
        throw withExitCode(err, EXIT_USAGE);
      });
    },
  };
  const verb = argv && invokedCommand(argv);
  const named = VERBS.filter(([, names]) => verb !== undefined && names.includes(verb));
  for (const [register] of named.length > 0 ? named : VERBS) register(program, ctx);
  program.commands.forEach((cmd) => cmd.exitOverride());
  return program;
}
