// `nbox run`: start a container in the foreground (its exit code is ours), or with -d under a monitor.
import type { Command } from 'commander';
import { openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

import { limitWarnings, parseMountFlag, parseVolumeFlag, resourcesFromFlags, type ParsedMount, type ResourceFlags, type RunOptions, type RunningContainer } from '../../api';
import { EXIT_USAGE, collect, keyValues, withExitCode, type CliContext } from '../context';
import { NboxError } from '../../errors';
import { checkDetachKeys, checkStdinTerminal, followResizes, terminalSize } from '../tty';
import { addResourceFlags } from '../resource-flags';
import { monitoredForeground, runAttached } from '../run-attached';
import { writeOut } from '../stdout';

/** Signals a user sends to nbox that the container should get instead. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

interface RunFlags extends ResourceFlags {
  rm?: boolean;
  name?: string;
  label: string[];
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  entrypoint?: string;
  hostname?: string;
  network: string;
  networkAlias: string[];
  ip?: string;
  publish: string[];
  addHost: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  publishAll?: boolean;
  expose: string[];
  interactive?: boolean;
  tty?: boolean;
  detachKeys?: string;
  securityOpt: string[];
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  readOnly?: boolean;
  device: string[];
  deviceCgroupRule: string[];
  sysctl: string[];
  groupAdd: string[];
  volume: string[];
  mount: string[];
  volumesFrom: string[];
  tmpfs: string[];
  init?: boolean;
  detach?: boolean;
  restart: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  healthRetries?: string;
  /** false with --no-healthcheck. */
  healthcheck: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  logDriver?: string;
  logOpt: string[];
}

/** registerRun adds `run` and `create`, which takes run's options and starts nothing. */
export function registerRun(program: Command, ctx: CliContext): void {
  runCommand(program.command('run'), ctx, 'run');
  runCommand(program.command('create'), ctx, 'create');
}

function runCommand(command: Command, ctx: CliContext, verb: 'run' | 'create'): void {
  addResourceFlags(command)
    .description(verb === 'run' ? 'Create and run a new container from an image' : 'Create a new container (start runs it)')
    .argument('<image>', 'image name or ID')
    .argument('[command...]', 'command and arguments (replace the image CMD)')
    .option('-d, --detach', 'run the container in the background and print its ID')
    .option('--rm', 'remove the container when it exits')
    .option('--name <name>', 'assign a name to the container')
    .option('-l, --label <KEY=value>', 'set metadata on the container (repeatable)', collect, [])
    .option('-e, --env <KEY=value>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .option('-u, --user <user>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--entrypoint <command>', 'overwrite the image ENTRYPOINT')
    .option('-h, --hostname <name>', 'container host name')
    .option('--network <mode>', 'connect a container to a network: bridge (the default), host, none, container:NAME or a user network', 'bridge')
    .option('--network-alias <alias>', 'add a network-scoped alias for the container (repeatable)', collect, [])
    .option('--ip <address>', 'IPv4 address on its user network (e.g., 10.91.0.10)')
    .option('-p, --publish <[ip:][hostPort[-end]:]containerPort[-end][/proto]>', "publish a container's port to the host (repeatable)", collect, [])
    .option('-P, --publish-all', 'publish every exposed port to a free host port')
    .option('--expose <port[-end][/proto]>', 'expose a port or a range of ports, for -P (repeatable)', collect, [])
    .option('--add-host <host:ip>', 'add a custom host-to-IP mapping (repeatable; ip host-gateway is the bridge gateway)', collect, [])
    .option('--dns <ip>', 'set custom DNS servers (repeatable)', collect, [])
    .option('--dns-search <domain>', 'set custom DNS search domains (repeatable)', collect, [])
    .option('--dns-option <option>', 'set DNS options (repeatable)', collect, [])
    .option('-v, --volume <[source:]container[:mode]>', 'bind-mount a host path (absolute or ./…) or mount a volume by name (repeatable)', collect, [])
    .option('--mount <type=…,src=…,dst=…>', 'attach a bind, volume or tmpfs mount (repeatable)', collect, [])
    .option('--volumes-from <container[:ro|:rw]>', "mount the volumes of another container (repeatable)", collect, [])
    .option('--tmpfs <container[:options]>', 'mount a tmpfs (repeatable), e.g. /run:size=64m', collect, [])
    .option('--security-opt <option>', 'security options: no-new-privileges[:true|false], seccomp=unconfined|PROFILE.json (repeatable)', collect, [])
    .option('--cap-add <capability>', 'add a Linux capability, or ALL (repeatable)', collect, [])
    .option('--cap-drop <capability>', 'drop a Linux capability, or ALL (repeatable)', collect, [])
    .option('--privileged', 'give extended privileges to this container')
    .option('--read-only', "mount the container's root filesystem as read only")
    .option('--device <host[:container][:rwm]>', 'add a host device to the container (repeatable)', collect, [])
    .option('--device-cgroup-rule <rule>', "add a rule to the cgroup allowed devices list (repeatable)", collect, [])
    .option('--sysctl <name=value>', 'set a namespaced kernel parameter (repeatable)', collect, [])
    .option('--group-add <group>', 'add an additional group to join (repeatable)', collect, [])
    .option('--init', 'run an init (tini) inside the container that forwards signals and reaps processes')
    .option('-i, --interactive', 'keep STDIN open: without it the container reads /dev/null, as in Docker')
    .option('--restart <policy>', 'restart policy to apply when a container exits: no, on-failure[:max-retries], always, unless-stopped', 'no')
    .option('--health-cmd <command>', 'command to run to check health')
    .option('--health-interval <duration>', 'time between running the check (ms|s|m|h) (default 0s)')
    .option('--health-retries <n>', 'consecutive failures needed to report unhealthy')
    .option('--health-timeout <duration>', 'maximum time to allow one check to run (ms|s|m|h) (default 0s)')
    .option('--health-start-period <duration>', 'start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)')
    .option('--health-start-interval <duration>', 'time between running the check during the start period (ms|s|m|h) (default 0s)')
    .option('--no-healthcheck', 'disable any container-specified HEALTHCHECK')
    .option('--log-driver <driver>', 'logging driver for the container: json-file (the default) or none')
    .option('--log-opt <KEY=value>', 'log driver options (repeatable)', collect, [])
    .option('--stop-signal <signal>', 'signal to stop the container (default: the image\'s STOPSIGNAL, else SIGTERM)')
    .option('--stop-timeout <seconds>', 'timeout (in seconds) to stop a container (default 10)')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--detach-keys <keys>', 'override the key sequence for detaching a container (default ctrl-p,ctrl-q)')
    .passThroughOptions()
    .action(async (image: string, command: string[], flags: RunFlags) => {
      // Docker's order: the terminal, then the keys; both before anything is created.
      // -d and create attach nothing: their -t needs no terminal here.
      if (!flags.detach && verb === 'run') checkStdinTerminal(flags);
      checkDetachKeys(flags.detachKeys);
      const resources = resourcesFromFlags(flags);
      // Handlers go in before the container starts: a signal that arrives
      // while it starts is held and delivered once there is a container.
      let container: RunningContainer | undefined;
      const pending: NodeJS.Signals[] = [];
      const forward = (signal: NodeJS.Signals) => (container ? container.kill(signal) : pending.push(signal));
      // A terminal's size changes reach the container as a resize of its own terminal, not as a signal.
      const forwarded = flags.tty ? FORWARDED.filter((signal) => signal !== 'SIGWINCH') : FORWARDED;
      for (const signal of forwarded) process.on(signal, forward);
      let stopResizing = () => {};
      try {
        // The store's sweeps are for the verbs that list it: run and create sweep only what they touch.
        const nbox = await ctx.open({ deferSweep: true });
        for (const warning of resources ? limitWarnings(resources) : []) process.stderr.write(`${warning}\n`);
        const options: Omit<RunOptions, 'detach'> = {
          cmd: command,
          entrypoint: flags.entrypoint,
          env: flags.env,
          envFiles: flags.envFile,
          user: flags.user,
          workdir: flags.workdir,
          hostname: flags.hostname,
          name: flags.name,
          labels: keyValues(flags.label, '--label', false),
          network: flags.network,
          networkAliases: flags.networkAlias,
          ip: flags.ip,
          publish: flags.publish,
          publishAll: flags.publishAll,
          expose: flags.expose,
          addHosts: flags.addHost,
          dns: flags.dns,
          dnsSearch: flags.dnsSearch,
          dnsOptions: flags.dnsOption,
          autoRemove: flags.rm ?? false,
          capAdd: flags.capAdd,
          capDrop: flags.capDrop,
          privileged: flags.privileged ?? false,
          readOnly: flags.readOnly ?? false,
          securityOpt: flags.securityOpt,
          devices: flags.device,
          deviceCgroupRules: flags.deviceCgroupRule,
          sysctls: flags.sysctl,
          groupAdd: flags.groupAdd,
          init: flags.init,
          restart: flags.restart,
          ...(resources ? { resources } : {}),
          healthcheck: {
            cmd: flags.healthCmd,
            interval: flags.healthInterval,
            timeout: flags.healthTimeout,
            startPeriod: flags.healthStartPeriod,
            startInterval: flags.healthStartInterval,
            retries: flags.healthRetries === undefined ? undefined : parseRetries(flags.healthRetries),
            disable: !flags.healthcheck,
          },
          logDriver: flags.logDriver,
          logOpts: keyValues(flags.logOpt, '--log-opt', false),
          stopSignal: flags.stopSignal,
          stopTimeout: flags.stopTimeout === undefined ? undefined : parseStopTimeout(flags.stopTimeout),
          mounts: mountFlags(flags),
          volumesFrom: flags.volumesFrom,
          tmpfs: Object.fromEntries(flags.tmpfs.map((spec) => {
            const colon = spec.indexOf(':');
            return colon < 0 ? [spec, ''] : [spec.slice(0, colon), spec.slice(colon + 1)];
          })),
        };
        if (verb === 'create') {
          writeOut(`${(await nbox.create(image, { ...options, tty: flags.tty, interactive: flags.interactive })).id}\n`);
          return;
        }
        if (flags.detach) {
          const detached = await nbox.run(image, { ...options, detach: true, tty: flags.tty, interactive: flags.interactive });
          writeOut(`${detached.id}\n`);
          return;
        }
        if (monitoredForeground(flags)) {
          for (const signal of forwarded) process.off(signal, forward);
          for (const signal of pending) process.kill(process.pid, signal);
          await runAttached(nbox, image, options, { tty: flags.tty ?? false, interactive: flags.interactive ?? false, detachKeys: flags.detachKeys });
          return;
        }
        container = await nbox.run(image, {
          ...options,
          stdio: [flags.interactive ? 0 : openSync('/dev/null', 'r'), 1, 2],
          tty: flags.tty ?? false,
          ttySize: terminalSize(),
          detachKeys: flags.detachKeys,
        });
        for (const signal of pending) container.kill(signal);
        if (flags.tty) stopResizing = followResizes(container);
        const exit = await Promise.race([container.exited, container.detached.then(() => null)]);
        if (exit === null) {
          // Detached: Docker's CLI leaves with 0. Without a monitor (`run -d`) the container cannot
          // outlive this process, so it ends here, recorded, rather than by its parent-death signal.
          process.stderr.write('read escape sequence\n');
          container.kill('SIGKILL');
          await container.exited;
          return;
        }
        process.exitCode = exit.exitCode ?? 128 + (exit.signal ? osConstants.signals[exit.signal] : 0);
      } catch (err) {
        // As `docker run`: its own failures are 125, a command that cannot run
        // 126 or 127 (a ContainerStartError carries which; its class is not loaded here).
        const startCode = (err as { exitCode?: unknown }).exitCode;
        throw withExitCode(err, err instanceof NboxError && typeof startCode === 'number' ? startCode : EXIT_USAGE);
      } finally {
        stopResizing();
        for (const signal of forwarded) process.off(signal, forward);
      }
    });
}

/** parseStopTimeout reads --stop-timeout as pflag reads an int. */
export function parseStopTimeout(text: string): number {
  return parseGoInt(text, '--stop-timeout');
}

/** parseRetries reads --health-retries as pflag reads an int. */
function parseRetries(text: string): number {
  return parseGoInt(text, '--health-retries');
}

// parseGoInt reads an int flag as pflag does: Go's base prefixes (0x, 0o, 0b, a leading 0) allowed.
function parseGoInt(text: string, flag: string): number {
  const match = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]?([0-7]+)|([1-9]\d*|0))$/.exec(text);
  if (!match) {
    throw new NboxError('ERR_NBOX_USAGE', `invalid argument "${text}" for "${flag}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  }
  const [, sign, hex, binary, octal, decimal] = match;
  const value = hex !== undefined ? parseInt(hex, 16) : binary !== undefined ? parseInt(binary, 2) : octal !== undefined ? parseInt(octal, 8) : Number(decimal);
  return sign === '-' ? -value : value;
}

/** mountFlags reads -v, then --mount (Docker's order); options nbox takes but does not apply get a note on stderr. */
function mountFlags(flags: RunFlags): ParsedMount['mount'][] {
  const parsed = [...flags.volume.map((spec) => parseVolumeFlag(spec)), ...flags.mount.map((spec) => parseMountFlag(spec))];
  for (const note of parsed.flatMap((p) => p.notes)) process.stderr.write(`nbox: note: ${note}\n`);
  return parsed.map((p) => p.mount);
}
