// `nbox port CONTAINER [PRIVATE_PORT[/PROTO]]`: a container's published ports, as Docker lists them.
import type { Command } from 'commander';

import { NboxError, formatPortLines, hostAddress, portKey, publishedPorts } from '../../api';
import { exitingOne, type CliContext } from '../context';
import { naturalCompare } from '../natural-order';
import { writeOut } from '../stdout';

/** registerPort adds `port`. */
export function registerPort(program: Command, ctx: CliContext): void {
  program
    .command('port')
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>', 'container name or ID')
    .argument('[private-port]', 'PRIVATE_PORT[/PROTO]')
    .action(exitingOne(async (ref: string, privatePort: string | undefined) => {
      const container = await (await ctx.open()).container(ref);
      const ports = publishedPorts(await container.record());
      // Sorted as the docker CLI sorts them.
      if (privatePort === undefined) {
        const lines = formatPortLines(ports).sort(naturalCompare);
        if (lines.length) writeOut(`${lines.join('\n')}\n`);
        return;
      }
      const key = privatePort.includes('/') ? privatePort : `${privatePort}/tcp`;
      const matching = ports.filter((port) => portKey(port) === key);
      if (matching.length === 0) throw new NboxError('ERR_NBOX_USAGE', `No public port '${key}' published for ${ref}`);
      writeOut(matching.map(hostAddress).sort(naturalCompare).map((line) => `${line}\n`).join(''));
    }));
}
