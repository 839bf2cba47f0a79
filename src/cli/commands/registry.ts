// `nbox pull`, `push`, `login` and `logout`: Docker's registry verbs.
import type { Command } from 'commander';

import { NboxError } from '../../errors';
import { parseBool, type CliContext } from '../context';
import { progressPrinter } from '../progress';

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
    .action(async (name: string, flags: TransferFlags) => {
      const nbox = await ctx.open();
      const out = process.stdout;
      const hasTagOrDigest = /@|:[^/]*$/.test(name);
      if (!flags.quiet && !hasTagOrDigest) out.write('Using default tag: latest\n');
      const result = await nbox.pull(name, { tlsVerify: flags.tlsVerify, authFile: flags.authfile, progress: flags.quiet ? undefined : progressPrinter(out) });
      const shown = result.tag ?? name;
      if (!flags.quiet) {
        out.write(`Digest: ${result.digest}\n`);
        out.write(result.upToDate ? `Status: Image is up to date for ${shown}\n` : `Status: Downloaded newer image for ${shown}\n`);
      }
      out.write(`${shown}\n`);
    });

  transferOptions(program.command('push'))
    .description('Upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-q, --quiet', 'suppress verbose output')
    .action(async (name: string, flags: TransferFlags) => {
      const nbox = await ctx.open();
      const out = process.stdout;
      if (!flags.quiet) out.write(`The push refers to repository [${name.replace(/:[^/:]*$/, '')}]\n`);
      const result = await nbox.push(name, { tlsVerify: flags.tlsVerify, authFile: flags.authfile, progress: flags.quiet ? undefined : progressPrinter(out) });
      out.write(flags.quiet ? `${result.digest}\n` : `${result.tag}: digest: ${result.digest} size: ${result.size}\n`);
    });

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
      process.stdout.write('Login Succeeded\n');
    });

  program
    .command('logout')
    .description('Log out from a registry')
    .argument('[server]', 'registry host[:port] (default: docker.io)', 'docker.io')
    .option('--authfile <file>', 'credentials file (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)')
    .action(async (server: string, flags: { authfile?: string }) => {
      const nbox = await ctx.open();
      const registry = await nbox.logout(server, { authFile: flags.authfile });
      process.stdout.write(`Removing login credentials for ${registry}\n`);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
