// `nbox --version` and `nbox version`: what Docker's client prints about itself.
import { arch, platform } from 'node:os';
import type { Command } from 'commander';

import { VERSION } from '../../version';
import type { CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerVersion adds `--version` and `version`. */
export function registerVersion(program: Command, _ctx: CliContext): void {
  program.version(`nbox version ${VERSION}`, '-v, --version', 'print version information and quit');
  program
    .command('version')
    .description('Show the nbox version information')
    .action(() => {
      const lines = [
        'Client:',
        ` Version:           ${VERSION}`,
        ` Node.js version:   ${process.version}`,
        ` OS/Arch:           ${platform()}/${arch() === 'x64' ? 'amd64' : arch()}`,
        ' Daemon:            none (nbox runs containers from this process and a monitor per container)',
      ];
      writeOut(`${lines.join('\n')}\n`);
    });
}
