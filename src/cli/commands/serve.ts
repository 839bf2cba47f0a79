// `nbox serve`: the Docker Engine API on a unix socket, for the docker CLI,
// dockerode and testcontainers (DOCKER_HOST=unix:///run/nbox.sock).
import type { Command } from 'commander';

import { globalOptions, type CliContext } from '../context';

/** registerServe adds `serve`. */
export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Serve the Docker Engine API on a unix socket until interrupted')
    .option('--socket <path>', 'the socket to listen on', '/run/nbox.sock')
    .option('--group <group>', "the socket's group (mode 0660), a name or a gid; root's by default")
    .action(async (flags: { socket: string; group?: string }) => {
      // A server starts containers one after another: a spare monitor makes each start quicker.
      const nbox = await ctx.open({ spareMonitor: true });
      const { serveEngine } = await import('../../engine/server');
      const debug = globalOptions(program).debug;
      const server = await serveEngine(nbox, { socket: flags.socket, group: flags.group, log: debug ? (line) => process.stderr.write(`${line}\n`) : undefined });
      process.stderr.write(`API listening on ${server.socket}\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
    });
}
