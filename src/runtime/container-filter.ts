// `ps --filter`, as Docker reads it: values of one key are alternatives,
// different keys must all match.
import { NboxError } from '../errors';
import { parseFilterArgs, type FilterArgs } from '../filter-args';
import type { ContainerRecord } from './container-record';
import { healthStatus, stateName } from './container-status';
import { recordedMounts } from './container-mounts';

const KEYS = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'health', 'volume', 'network', 'before', 'since', 'publish'];
const STATUSES = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];
const HEALTHS = ['none', 'starting', 'healthy', 'unhealthy'];

/** ContainerFilters maps a filter key to the values given for it. */
export type ContainerFilters = FilterArgs;

/** parseContainerFilters reads `key=value` filters; an unknown key or status is refused as Docker refuses it. */
export function parseContainerFilters(specs: string[]): ContainerFilters {
  const filters = parseFilterArgs(specs, KEYS);
  for (const value of filters.get('status') ?? []) {
    if (!STATUSES.includes(value)) {
      throw new NboxError('ERR_NBOX_USAGE', `invalid filter 'status=${value}': invalid value for state (${value}): must be one of ${STATUSES.join(', ')}`);
    }
  }
  for (const value of filters.get('health') ?? []) {
    if (!HEALTHS.includes(value)) {
      throw new NboxError('ERR_NBOX_USAGE', `invalid filter 'health=${value}': invalid value for health (${value}): must be one of ${HEALTHS.join(', ')}`);
    }
  }
  for (const value of filters.get('exited') ?? []) {
    if (!/^[+-]?\d+$/.test(value)) throw new NboxError('ERR_NBOX_USAGE', `invalid filter 'exited=${value}': strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  for (const value of filters.get('publish') ?? []) portRange(value);
  return filters;
}

/** ImageMatcher tells whether a container's image is the one an `ancestor` value names. */
export type ImageMatcher = (record: ContainerRecord, value: string) => boolean;

/** CreatedOf is the creation time (ISO) of the container a `before` or `since` value names. */
export type CreatedOf = (value: string) => string;

/** matchesContainerFilters applies filters to one container. */
export function matchesContainerFilters(record: ContainerRecord, filters: ContainerFilters, ancestor: ImageMatcher, createdOf: CreatedOf = () => ''): boolean {
  const { config, state } = record;
  const tests: Record<string, (value: string) => boolean> = {
    id: (value) => config.id.startsWith(value),
    // Docker matches a name filter as a regular expression anywhere in the name.
    name: (value) => safeRegExp(value)?.test(config.name) ?? config.name.includes(value),
    label: (value) => {
      const eq = value.indexOf('=');
      return eq < 0 ? value in config.labels : config.labels[value.slice(0, eq)] === value.slice(eq + 1);
    },
    status: (value) => stateName(state) === value,
    exited: (value) => state.status === 'exited' && state.exitCode === Number(value),
    health: (value) => healthStatus(state) === value,
    ancestor: (value) => ancestor(record, value),
    // As Docker: a volume's name or any mount's destination.
    volume: (value) => recordedMounts(config).some((m) => (m.type === 'volume' && m.source === value) || m.target === value),
    // A network's name or ID (a user network's as recorded when the container joined it).
    network: (value) => config.network === value || Object.entries(config.networks ?? {}).some(([name, endpoint]) => name === value || endpoint.id === value),
    before: (value) => config.created < createdOf(value),
    since: (value) => config.created > createdOf(value),
    // A published container port (or one in a range), as its HostConfig.PortBindings keys.
    publish: (value) => {
      const { first, last, protocol } = portRange(value);
      return (config.ports ?? []).some((p) => p.protocol === protocol && p.containerPort >= first && p.containerPort <= last);
    },
  };
  // Values of one key are alternatives, but labels must all be there (Docker's MatchKVList).
  return [...filters].every(([key, values]) => (key === 'label' ? values.every(tests[key]) : values.some(tests[key])));
}

// portRange reads a publish filter: PORT[/PROTO] or START-END[/PROTO], tcp unless said.
function portRange(value: string): { first: number; last: number; protocol: string } {
  const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(value);
  if (!match) throw new NboxError('ERR_NBOX_USAGE', `invalid filter 'publish=${value}'`);
  return { first: Number(match[1]), last: Number(match[2] ?? match[1]), protocol: match[3] ?? 'tcp' };
}

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}
