#!/usr/bin/env -S node --
// The shebang ends node's own options with "--": Node 20 otherwise reads
// --env-file anywhere in argv, loading the container's env file into nbox.
// The nbox CLI: Docker's verbs over the library API. This file only wires
// verbs and turns errors into one line and Docker's exit codes.
import { Command, CommanderError } from 'commander';

import { NboxError } from '../errors';
import { globalOptions, type CliContext } from './context';
import { refuseNodeEnvFiles } from './node-argv';
import { registerBuild } from './commands/build';
import { registerExport } from './commands/export';
import { registerHistory } from './commands/history';
import { registerImages } from './commands/images';
import { registerImport } from './commands/import';
import { registerInspect } from './commands/inspect';
import { registerPs } from './commands/ps';
import { registerRm } from './commands/rm';
import { registerRmi } from './commands/rmi';
import { registerRegistry } from './commands/registry';
import { registerRun } from './commands/run';
import { registerSave } from './commands/save';
import { registerTag } from './commands/tag';

/** EXIT_NBOX_ERROR is Docker's code for an error of the engine itself. */
const EXIT_NBOX_ERROR = 125;

function buildProgram(): Command {
  const program = new Command('nbox')
    .description('A daemonless container runtime and image builder')
    .option('--root <dir>', 'store directory (default: $NBOX_ROOT or /var/lib/nbox)')
    .option('--debug', 'print the cause chain of errors')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text.startsWith('error: ') ? `nbox: ${text.slice(7)}` : text) });
  const ctx: CliContext = {
    open: async () => {
      const { Nbox } = await import('../api');
      return Nbox.open({ root: globalOptions(program).root });
    },
  };
  for (const register of [registerBuild, registerRun, registerImport, registerImages, registerTag, registerRmi, registerInspect, registerPs, registerRm, registerHistory, registerExport, registerSave, registerRegistry]) {
    register(program, ctx);
  }
  program.commands.forEach((cmd) => cmd.exitOverride());
  return program;
}

function report(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (help and version exit 0).
    return err.exitCode === 0 ? 0 : EXIT_NBOX_ERROR;
  }
  if (debug) {
    console.error(err);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`nbox: ${message.split('\n')[0]}\n`);
  }
  const code = (err as { exitCode?: unknown }).exitCode;
  if (err instanceof NboxError && typeof code === 'number') return code;
  return EXIT_NBOX_ERROR;
}

// A reader that goes away (`nbox images | head -1`) ends nbox as SIGPIPE ends
// Docker's CLI: quietly, with the shell's code for it, instead of a stack trace.
const EXIT_SIGPIPE = 141;

async function main(): Promise<void> {
  const refusal = refuseNodeEnvFiles(process.argv);
  if (refusal) {
    process.stderr.write(`nbox: ${refusal}\n`);
    process.exitCode = EXIT_NBOX_ERROR;
    return;
  }
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(EXIT_SIGPIPE);
  });
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    process.exitCode = report(err, globalOptions(program).debug || process.argv.includes('--debug'));
  }
}

void main();
