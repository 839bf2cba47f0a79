// Docker's management commands: `nbox container ls|rm|run|…` and `nbox image rm|tag|…` are the
// top-level verbs under the names Docker gives them there, built by the same register functions.
import type { Command } from 'commander';

import type { CliContext } from '../context';
import { NboxCommand } from '../short-options';
import { registerAttach } from './attach';
import { registerBuild } from './build';
import { registerCommit } from './commit';
import { registerCp } from './cp';
import { registerDiff } from './diff';
import { registerExec } from './exec';
import { registerExport } from './export';
import { registerHistory } from './history';
import { registerImport } from './import';
import { registerInspect } from './inspect';
import { registerKill } from './kill';
import { registerLogs } from './logs';
import { registerPause } from './pause';
import { registerPs } from './ps';
import { registerRegistry } from './registry';
import { registerRename } from './rename';
import { registerRm } from './rm';
import { registerRmi } from './rmi';
import { registerRun } from './run';
import { registerSave } from './save';
import { registerSnapshot } from './snapshot';
import { registerStart } from './start';
import { registerStats } from './stats';
import { registerStop } from './stop';
import { registerTag } from './tag';
import { registerTop } from './top';
import { registerUpdate } from './update';
import { registerWait } from './wait';

type Register = (program: Command, ctx: CliContext) => void;

/** A verb's name under the group, and its aliases there, by its top-level name. */
type Renames = Record<string, { name?: string; aliases?: string[] }>;

const CONTAINER_VERBS: [Register, Renames][] = [
  [registerCommit, { commit: {} }], [registerCp, { cp: {} }], [registerDiff, { diff: {} }],
  [registerExec, { exec: {} }], [registerExport, { export: {} }], [registerInspect, { inspect: {} }],
  [registerKill, { kill: {} }], [registerLogs, { logs: {} }], [registerPs, { ps: { name: 'ls', aliases: ['ps', 'list'] } }],
  [registerPause, { pause: {}, unpause: {} }], [registerRename, { rename: {} }],
  [registerRm, { rm: { aliases: ['remove'] } }], [registerRun, { run: {}, create: {} }], [registerStop, { stop: {} }],
  [registerTop, { top: {} }], [registerWait, { wait: {} }], [registerStart, { start: {}, restart: {} }], [registerAttach, { attach: {} }],
  [registerStats, { stats: {} }], [registerUpdate, { update: {} }], [registerSnapshot, { snapshot: {}, restore: {} }],
];

const IMAGE_VERBS: [Register, Renames][] = [
  [registerBuild, { build: {} }], [registerHistory, { history: {} }], [registerImport, { import: {} }],
  [registerInspect, { inspect: {} }], [registerSave, { save: {}, load: {} }], [registerRegistry, { pull: {}, push: {} }],
  [registerRmi, { rmi: { name: 'rm', aliases: ['rmi', 'remove'] } }], [registerTag, { tag: {} }],
];

/** registerManagement fills the `container` and `image` groups the prune and images verbs made (those
 * of them this start made), when one of them is the verb: every other start skips building two dozen
 * commands again. */
export function registerManagement(program: Command, ctx: CliContext): void {
  const groups = new Map<Command, [Register, Renames][]>();
  for (const [name, verbs] of [['container', CONTAINER_VERBS], ['image', IMAGE_VERBS]] as const) {
    const made = program.commands.find((cmd) => cmd.name() === name);
    if (made) groups.set(made, verbs);
  }
  program.hook('preSubcommand', (_program, verb) => {
    const verbs = groups.get(verb);
    if (!verbs) return;
    groups.delete(verb);
    fill(verb, verbs, ctx);
  });
}

function fill(parent: Command, verbs: [Register, Renames][], ctx: CliContext): void {
  // `run` and `exec` pass their command's options through, which needs positional options above them.
  parent.enablePositionalOptions();
  for (const [register, renames] of verbs) {
    const scratch = new NboxCommand().enablePositionalOptions();
    register(scratch, ctx);
    for (const verb of scratch.commands) {
      const rename = renames[verb.name()];
      if (!rename) continue;
      if (rename.name) verb.name(rename.name);
      if (rename.aliases) verb.aliases(rename.aliases);
      parent.addCommand(verb);
      verb.copyInheritedSettings(parent);
    }
  }
}
