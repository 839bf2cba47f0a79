// A container's config from its image and `run`'s options, by Docker's rules,
// checked before anything is made: its command, env, user, network, ports,
// mounts, /etc files, limits, restart policy and health check.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus as hostCpus } from 'node:os';

import { NboxError } from '../errors';
import type { ImageRecord } from '../image/images';
import type { ImageConfigBody } from '../image/oci';
import { availableCpus, isUnifiedHost } from './cgroup';
import { validateResources } from './resources';
import { containerCommand } from './argv';
import { containerPaths, type ContainerConfig, type ContainerRecord } from './container-record';
import { processOwner } from './container-state';
import { mergeEnv, readEnvFile } from './env';
import { imageUser } from './container-spec';
import { planMounts, volumeBindSpec } from './container-mounts';
import { etcFiles, type EtcFiles } from './etc-files';
import { healthcheckFromOptions, mergeHealthcheck, validateHealthConfig } from './health-config';
import { checkDns, checkDnsSearch, checkLineFields, isUserNetwork, parseAddHost, runNetwork, sharedNetworkOf } from './network';
import { NetworkStore } from './user-networks';
import { exposeKeys, exposedPorts, holdHostPorts, parsePublish, portKey, type HeldPorts, type PublishRequest } from './ports';
import { DEFAULT_BRIDGE, publishedOnBridge } from './bridge-network';
import { checkAutoRemove, parseRestartPolicy, validateRestartPolicy, NO_RESTART } from './restart-policy';
import { parseSignal } from './stop';
import { randomName } from './names';
import { logConfig } from './log-config';
import type { ResolvedUser } from './user';
import { securityConfig, seccompProfile } from './security';
import type { RunContext, RunOptions } from './run-options';
import { isoTime } from '../iso-time';

/** PreparedRun is a container resolved from its image, not yet on record. */
export interface PreparedRun {
  image: ImageRecord;
  layerDirs: string[];
  user: ResolvedUser;
  config: ContainerConfig;
  files: EtcFiles;
  /** No --name: a taken generated name gives way to another. */
  nameGenerated: boolean;
  /** The published host ports, held: the caller closes them (a monitor keeps its own copies). */
  ports: HeldPorts;
}

/** prepareRun resolves a container from its image and options: its config, /etc files and user, not yet on record. */
export async function prepareRun(ctx: RunContext, image: ImageRecord, imageRef: string, opts: RunOptions, id: string): Promise<PreparedRun> {
  const layerDirs = await ctx.store.layers.dirs(image.config);
  const userSpec = opts.user ?? image.config.config?.User ?? '';
  const user = await imageUser(layerDirs, userSpec, opts.groupAdd);
  // The image's EXPOSE and --expose: what -P publishes.
  const expose = [...new Set([...Object.keys(image.config.config?.ExposedPorts ?? {}), ...(opts.expose ?? []).flatMap(exposeKeys)])];
  // Ports and addresses that dead containers held are free before they are checked (a deferred open's sweep).
  const network = runNetwork(opts.network);
  if (network === 'bridge' || isUserNetwork(network)) await ctx.containers.sweepDeferredLeases();
  const requests = publishRequests(expose, opts);
  const config: ContainerConfig = { ...containerConfig(image, imageRef, opts, userSpec, user, id), ...(await userNetwork(ctx, opts)) };
  const exposed = [...new Set([...expose, ...requests.map(portKey)])];
  if (exposed.length > 0) config.exposedPorts = exposed;
  config.mounts = await planMounts({
    mounts: [...(opts.volumes ?? []).map(volumeBindSpec), ...(opts.mounts ?? [])],
    volumesFrom: opts.volumesFrom ?? [],
    tmpfsTargets: Object.keys(config.tmpfs ?? {}),
    imageVolumes: Object.keys(image.config.config?.Volumes ?? {}),
  }, (ref) => ctx.containers.resolve(ref));
  const files = await containerFiles(ctx, config);
  // Last, so that nothing here fails with the ports held: whoever runs the container closes them.
  const ports = holdHostPorts(requests, requests.length > 0 ? publishedOnBridge() : []);
  if (ports.bindings.length > 0) config.ports = ports.bindings;
  return { image, layerDirs, user, config, files, nameGenerated: opts.name === undefined, ports };
}

// containerFiles are the container's /etc files; with `--network container:REF`, as Docker, the /etc/hosts and
// /etc/resolv.conf of the container whose network it joins (config.network then names it by ID).
async function containerFiles(ctx: RunContext, config: ContainerConfig): Promise<EtcFiles> {
  const shared = sharedNetworkOf(config.network);
  if (shared === undefined) return etcFiles(config.network, config.hostname, config.extraHosts, { servers: config.dns, search: config.dnsSearch, options: config.dnsOptions });
  const target = await sharedNetworkTarget(ctx, shared);
  config.network = `container:${target.config.id}`;
  const paths = containerPaths(target.dir);
  const [hosts, resolvConf] = await Promise.all([readFile(paths.hosts, 'utf8'), readFile(paths.resolvConf, 'utf8')]);
  return { hosts, resolvConf, hostname: `${config.hostname}\n` };
}

// userNetwork is a user network's endpoint: the network (which must exist) by ID, --network-alias and --ip,
// which Docker takes on user networks only.
async function userNetwork(ctx: RunContext, opts: RunOptions): Promise<Partial<Pick<ContainerConfig, 'network' | 'networks'>>> {
  const mode = runNetwork(opts.network);
  if (!isUserNetwork(mode)) {
    if (opts.networkAliases?.length) throw new NboxError('ERR_NBOX_USAGE', 'network-scoped aliases are only supported for user-defined networks');
    if (opts.ip !== undefined) throw new NboxError('ERR_NBOX_USAGE', 'user specified IP address is supported on user defined networks only');
    return {};
  }
  const network = await new NetworkStore(ctx.store.root).get(mode);
  const aliases = opts.networkAliases?.length ? { aliases: checkLineFields('--network-alias', opts.networkAliases) } : {};
  return { network: network.name, networks: { [network.name]: { id: network.id, ...aliases, ...(opts.ip ? { ipAddress: opts.ip } : {}) } } };
}

// sharedNetworkTarget is the running container whose network `--network container:REF` joins.
async function sharedNetworkTarget(ctx: RunContext, ref: string): Promise<ContainerRecord> {
  const target = await ctx.containers.resolve(ref);
  if (target.state.status !== 'running') throw new NboxError('ERR_NBOX_USAGE', `cannot join network of a non running container: ${target.config.id}`);
  return target;
}

// publishRequests reads -p and -P (a bad one is refused before anything is made); on a network other than the
// bridge they mean nothing (Docker discards them too).
function publishRequests(expose: string[], opts: RunOptions): PublishRequest[] {
  const requests = [...(opts.publish ?? []).flatMap(parsePublish), ...(opts.publishAll ? exposedPorts(Object.fromEntries(expose.map((key) => [key, {}]))) : [])];
  const mode = runNetwork(opts.network);
  return mode === 'bridge' || isUserNetwork(mode) ? requests : [];
}

/** containerConfig applies Docker's rules to an image config and run options. */
function containerConfig(image: ImageRecord, imageRef: string, opts: RunOptions, userSpec: string, user: ResolvedUser, id: string): ContainerConfig {
  const body = image.config.config ?? {};
  const service = restartAndHealth(opts, body.Healthcheck);
  const command = containerCommand({
    imageEntrypoint: body.Entrypoint,
    imageCmd: body.Cmd,
    entrypointOverride: opts.entrypoint,
    cmdArgs: opts.cmd ?? [],
  });
  const network = runNetwork(opts.network);
  const security = securityConfig(opts, network);
  // No filter with --privileged or seccomp=unconfined (or the library's seccomp: false).
  const seccomp = opts.seccomp !== false && seccompProfile(security) !== 'unconfined';
  // An empty one is Docker's default, as an absent one.
  const hostname = opts.hostname ? checkLineFields('--hostname', [opts.hostname])[0] : network === 'host' ? readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() : id.slice(0, 12);
  const env = mergeEnv({
    imageEnv: body.Env,
    hostname,
    user,
    cliEnv: opts.env ?? [],
    envFiles: (opts.envFiles ?? []).map((path) => ({ path, text: readEnvFile(path) })),
    hostEnv: process.env,
    tty: opts.tty,
  });
  const resources = opts.resources && validateResources(opts.resources, { cpus: hostCpus().length, availableCpus: availableCpus(), unified: isUnifiedHost() });
  const workingDir = opts.workdir || body.WorkingDir || '/';
  if (!workingDir.startsWith('/')) {
    throw new NboxError('ERR_NBOX_USAGE', `the working directory '${workingDir}' is invalid, it needs to be an absolute path`);
  }
  return {
    id,
    name: opts.name ?? randomName(),
    created: isoTime(),
    image: image.id,
    imageRef,
    ...command,
    env,
    user: userSpec,
    workingDir,
    hostname,
    network,
    ...(opts.addHosts?.length ? { extraHosts: opts.addHosts.map((entry) => parseAddHost(entry, DEFAULT_BRIDGE.gateway)) } : {}),
    ...(opts.dns?.length ? { dns: checkDns(opts.dns) } : {}),
    ...(opts.dnsSearch?.length ? { dnsSearch: checkDnsSearch(opts.dnsSearch) } : {}),
    ...(opts.dnsOptions?.length ? { dnsOptions: checkLineFields('--dns-option', opts.dnsOptions, 'allowed') } : {}),
    ...(opts.tty ? { tty: true } : {}),
    ...(opts.interactive ? { openStdin: true } : {}),
    autoRemove: opts.autoRemove ?? false,
    // The image's labels are the container's too, as Docker merges them, with the run's own over them.
    labels: { ...body.Labels, ...opts.labels },
    ...(seccomp ? {} : { seccomp: false }),
    security,
    tmpfs: opts.tmpfs ?? {},
    ...(opts.init ? { init: true } : {}),
    ...(resources ? { resources } : {}),
    ...stopOptions(opts),
    logConfig: logConfig(opts.logDriver, opts.logOpts),
    ...service,
    ...(opts.session ? { session: processOwner() } : {}),
  };
}

// stopOptions checks --stop-signal as Docker's daemon does (its message) and --stop-timeout; an empty signal is none.
function stopOptions(opts: RunOptions): Pick<ContainerConfig, 'stopSignal' | 'stopTimeout'> {
  if (opts.stopSignal) parseSignal(opts.stopSignal);
  if (opts.stopTimeout !== undefined && !Number.isSafeInteger(opts.stopTimeout)) {
    throw new NboxError('ERR_NBOX_USAGE', `invalid stop timeout: ${opts.stopTimeout}`);
  }
  return {
    ...(opts.stopSignal ? { stopSignal: opts.stopSignal } : {}),
    ...(opts.stopTimeout !== undefined ? { stopTimeout: opts.stopTimeout } : {}),
  };
}

// restartAndHealth reads --restart, then --health-* (the docker CLI's checks), --rm against the
// policy, then the daemon's bounds on the health durations: the first bad value is the one reported.
function restartAndHealth(opts: RunOptions, imageHealthcheck: ImageConfigBody['Healthcheck']): Pick<ContainerConfig, 'restartPolicy' | 'healthcheck'> {
  const restartPolicy = typeof opts.restart === 'string' ? parseRestartPolicy(opts.restart) : validateRestartPolicy(opts.restart ?? NO_RESTART);
  const own = healthcheckFromOptions(opts.healthcheck);
  checkAutoRemove(restartPolicy, opts.autoRemove ?? false);
  validateHealthConfig(own);
  const healthcheck = mergeHealthcheck(own, imageHealthcheck);
  return healthcheck ? { restartPolicy, healthcheck } : { restartPolicy };
}
