// `nbox pull`, `push`, `login` and `logout`: Docker's registry verbs.
import type { Command } from 'commander';

import type { TransferProgress } from '../../api';
import { NboxError } from '../../errors';
import { exitingOne, parseBool, type CliContext } from '../context';
import { progressPrinter } from '../progress';
import { writeOut } from '../stdout';
import { removeTempOnSignal } from '../interrupt';

interface TransferFlags {
  tlsVerify?: boolean;
  authfile?: string;
  quiet?: boolean;
}

/** registerRegistry adds `pull`, `push`, `login` and `logout`. */
export function registerRegistry(program: Command, ctx: CliContext): void {
  const transferOptions = (command: Command) =>
    command
      .option('--tls-verify <bool>', 'require HTTPS and verify certificates (default: plain HTTP only for loopback registries)', parseBool)
      .option('--authfile <file>', 'credentials file (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)');

  transferOptions(program.command('pull'))
    .description('Download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('-q, --quiet', 'suppress verbose output')
    .action(exitingOne(async (name: string, flags: TransferFlags) => {
      const nbox = await ctx.open();
      removeTempOnSignal(nbox);
      const { canonicalName, pullHeader, pullStatus, splitReference } = await import('../../api');
      const out = process.stdout;
      const { repository, tag, digest } = splitReference(name);
      const defaultTag = /@|:[^/]*$/.test(name) ? '' : 'Using default tag: latest\n';
      const progress = afterHeader(`${defaultTag}${pullHeader(name)}\n`, progressPrinter(out));
      const result = await nbox.pull(name, { tlsVerify: flags.tlsVerify, authFile: flags.authfile, progress: flags.quiet ? undefined : progress.print });
      if (!flags.quiet) {
        progress.flush();
        for (const line of pullStatus(name, result)) out.write(`${line}\n`);
      }
      // As Docker, the last line is the full name, for scripts.
      out.write(`${canonicalName(repository)}${digest ? `@${digest}` : `:${tag}`}\n`);
    }));

  transferOptions(program.command('push'))
    .description('Upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-q, --quiet', 'suppress verbose output')
    .action(exitingOne(async (name: string, flags: TransferFlags) => {
      const nbox = await ctx.open();
      const { canonicalName, splitReference } = await import('../../api');
      const out = process.stdout;
      const { repository } = splitReference(name);
      const header = `The push refers to repository [${canonicalName(repository)}]\n`;
      const result = await nbox.push(name, { tlsVerify: flags.tlsVerify, authFile: flags.authfile, progress: flags.quiet ? undefined : afterHeader(header, progressPrinter(out)).print });
      out.write(flags.quiet ? `${canonicalName(repository)}:${result.tag}\n` : `${result.tag}: digest: ${result.digest} size: ${result.size}\n`);
    }));

  transferOptions(program.command('login'))
    .description('Log in to a registry')
    .argument('[server]', 'registry host[:port] (default: docker.io)', 'docker.io')
    .option('-u, --username <user>', 'username')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'take the password from stdin')
    .action(async (server: string, flags: TransferFlags & { username?: string; password?: string; passwordStdin?: boolean }) => {
      if (flags.password !== undefined && flags.passwordStdin) throw new NboxError('ERR_NBOX_USAGE', '--password and --password-stdin are mutually exclusive');
      if (!flags.username) throw new NboxError('ERR_NBOX_USAGE', 'login needs a username: -u USER');
      let password = flags.password;
      if (flags.passwordStdin) password = (await readStdin()).replace(/\r?\n$/, '');
      else if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (!password) throw new NboxError('ERR_NBOX_USAGE', 'login needs a password: -p PASSWORD or --password-stdin');
      const nbox = await ctx.open();
      await nbox.login(server, { username: flags.username, password }, { tlsVerify: flags.tlsVerify, authFile: flags.authfile });
      writeOut('Login Succeeded\n');
    });

  program
    .command('logout')
    .description('Log out from a registry')
    .argument('[server]', 'registry host[:port] (default: docker.io)', 'docker.io')
    .option('--authfile <file>', 'credentials file (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)')
    .action(async (server: string, flags: { authfile?: string }) => {
      const nbox = await ctx.open();
      // As Docker: not being logged in is said, not an error.
      const { registry, loggedIn } = await nbox.logout(server, { authFile: flags.authfile });
      writeOut(loggedIn ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
    });
}

// afterHeader prints header before the first progress line, so a transfer that
// fails before it starts (no such image, bad name) prints only its error.
function afterHeader(header: string | undefined, print: (event: TransferProgress) => void): { print: (event: TransferProgress) => void; flush: () => void } {
  let pending = header;
  const flush = () => {
    if (pending) writeOut(pending);
    pending = undefined;
  };
  return {
    print: (event) => {
      flush();
      print(event);
    },
    flush,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
