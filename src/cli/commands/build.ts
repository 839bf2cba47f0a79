// `nbox build [OPTIONS] PATH | URL | -`: the classic builder's output over the library's build.
import type { Command } from 'commander';
import { closeSync, openSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { NboxError } from '../../errors';
import { EXIT_FAILED, EXIT_USAGE, collect, keyValues, parseBool, withExitCode, type CliContext } from '../context';

interface BuildFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  target?: string;
  label: string[];
  cache: boolean;
  secret: string[];
  ssh: string[];
  quiet?: boolean;
  network: string;
  pull?: boolean;
  tlsVerify?: boolean;
}

/** registerBuild adds `build`. */
export function registerBuild(program: Command, ctx: CliContext): void {
  program
    .command('build')
    .description('Build an image from a Dockerfile')
    .argument('<context>', 'context directory, tarball, git repository (URL#ref:subdir), http(s) URL of a tarball or Dockerfile, or - (a tar or a Dockerfile on stdin)')
    .option('-t, --tag <name:tag>', 'name and optionally a tag (repeatable)', collect, [])
    .option('-f, --file <path>', "name of the Dockerfile (default: 'PATH/Dockerfile')")
    .option('--build-arg <KEY=value>', 'set a build-time variable (repeatable; KEY alone takes it from the environment)', collect, [])
    .option('--target <stage>', 'set the target build stage to build')
    .option('--label <key=value>', 'set metadata for the image (repeatable)', collect, [])
    .option('--no-cache', 'do not use the cache when building the image')
    .option('--secret <id=ID,src=PATH>', 'a secret file for RUN --mount=type=secret (repeatable)', collect, [])
    .option('--ssh <default|ID[=SOCKET]>', 'an ssh-agent socket for RUN --mount=type=ssh; default is $SSH_AUTH_SOCK (repeatable)', collect, [])
    .option('-q, --quiet', 'suppress the build output and print the image ID on success')
    .option('--network <mode>', 'networking mode for RUN: default (host), host or none', 'default')
    .option('--rm', 'remove intermediate containers after a successful build (always)')
    .option('--force-rm', 'always remove intermediate containers (always)')
    .option('--pull', 'always pull base images from their registry (missing ones are pulled anyway)')
    .option('--tls-verify <bool>', 'require HTTPS for registries (default: plain HTTP only for loopback ones)', parseBool)
    .action(async (context: string, flags: BuildFlags) => {
      const nbox = await ctx.open();
      const { consoleOutput, isRemoteContext } = await import('../../api');
      const abort = new AbortController();
      const interrupt = () => abort.abort();
      process.on('SIGINT', interrupt);
      process.on('SIGTERM', interrupt);
      const devNull = openSync('/dev/null', 'r+');
      try {
        await nbox.build({
          context,
          // As the docker CLI: -f is relative to the current directory, not the context, unless the context is
          // remote or an archive (stdin's or a file's): then it names a file of the archive.
          file: flags.file && flags.file !== '-' && isLocalDirectory(context, isRemoteContext) ? resolve(flags.file) : flags.file,
          tags: flags.tag,
          buildArgs: keyValues(flags.buildArg, '--build-arg', true),
          target: flags.target,
          labels: keyValues(flags.label, '--label', false),
          noCache: !flags.cache,
          secrets: secretFiles(flags.secret),
          sshAgents: sshAgents(flags.ssh),
          network: flags.network,
          output: consoleOutput(process.stdout, process.stderr, flags.quiet),
          // The classic builder streams both of a step's streams into its output.
          stdio: flags.quiet ? [devNull, devNull, devNull] : [devNull, 1, 1],
          signal: abort.signal,
          pull: flags.pull,
          registry: { tlsVerify: flags.tlsVerify },
        });
      } catch (err) {
        // docker build exits 1 when the build fails, 125 is for bad usage.
        throw withExitCode(err, (err as NboxError).code === 'ERR_NBOX_USAGE' ? EXIT_USAGE : EXIT_FAILED);
      } finally {
        closeSync(devNull);
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
}

/** secretFiles parses --secret id=ID,src=PATH. */
function secretFiles(specs: string[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const spec of specs) {
    const fields = new Map(spec.split(',').map((part) => {
      const eq = part.indexOf('=');
      return [eq < 0 ? part : part.slice(0, eq), eq < 0 ? '' : part.slice(eq + 1)] as const;
    }));
    const id = fields.get('id');
    const source = fields.get('src') ?? fields.get('source');
    if (!id || !source) throw new NboxError('ERR_NBOX_USAGE', `--secret "${spec}": expected id=ID,src=PATH`);
    files[id] = resolve(source);
  }
  return files;
}

/** sshAgents parses --ssh ID[=SOCKET]: without a socket, the one $SSH_AUTH_SOCK names. */
function sshAgents(specs: string[]): Record<string, string> {
  const agents: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const id = eq < 0 ? spec : spec.slice(0, eq);
    const path = eq < 0 ? process.env.SSH_AUTH_SOCK ?? '' : spec.slice(eq + 1);
    if (!id) throw new NboxError('ERR_NBOX_USAGE', `--ssh "${spec}": expected ID[=SOCKET]`);
    if (!path) throw new NboxError('ERR_NBOX_USAGE', `--ssh "${spec}": no socket given and SSH_AUTH_SOCK is not set`);
    // Docker takes a list of key files here; nbox forwards an agent's socket only.
    if (path.includes(',')) throw new NboxError('ERR_NBOX_USAGE', `--ssh "${spec}": key files are not supported, give an ssh-agent socket (load keys with ssh-add)`);
    agents[id] = resolve(path);
  }
  return agents;
}

// isLocalDirectory tells whether the context argument names a directory on this host.
function isLocalDirectory(context: string, isRemoteContext: (text: string) => boolean): boolean {
  return context !== '-' && !isRemoteContext(context) && statSync(context, { throwIfNoEntry: false })?.isDirectory() === true;
}
