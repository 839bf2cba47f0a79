// A container create body (Docker's Config plus HostConfig) as run options:
// what nbox does not do is refused by name rather than silently dropped.
import type { RunOptions } from '../api';
import { EngineError } from './http';

/** CreateBody is the part of Docker's container create body nbox reads. */
export interface CreateBody {
  Image?: string;
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Hostname?: string;
  Labels?: Record<string, string> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StopSignal?: string;
  Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } | null;
  HostConfig?: HostConfig | null;
}

interface HostConfig {
  Binds?: string[] | null;
  AutoRemove?: boolean;
  NetworkMode?: string;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  Init?: boolean | null;
  Tmpfs?: Record<string, string> | null;
  SecurityOpt?: string[] | null;
  Privileged?: boolean;
  PortBindings?: Record<string, unknown> | null;
}

/** createOptions reads a create body: the image and the run options of the container it makes. */
export function createOptions(body: CreateBody): { image: string; options: RunOptions } {
  if (!body.Image) throw new EngineError(400, 'config: image is required');
  const host = body.HostConfig ?? {};
  if (host.Privileged) throw new EngineError(400, 'privileged containers are not supported by nbox yet');
  if (host.PortBindings && Object.keys(host.PortBindings).length > 0) throw new EngineError(400, 'published ports are not supported by nbox yet');
  const options: RunOptions = {
    cmd: stringList(body.Cmd),
    entrypoint: entrypoint(body.Entrypoint),
    env: body.Env ?? undefined,
    user: body.User || undefined,
    workdir: body.WorkingDir || undefined,
    hostname: body.Hostname || undefined,
    labels: body.Labels ?? undefined,
    tty: body.Tty ?? false,
    interactive: body.OpenStdin ?? false,
    autoRemove: host.AutoRemove ?? false,
    network: networkMode(host.NetworkMode),
    volumes: (host.Binds ?? []).map(bind),
    tmpfs: host.Tmpfs ?? undefined,
    init: host.Init ?? undefined,
    seccomp: (host.SecurityOpt ?? []).some((opt) => /^seccomp[=:]unconfined$/.test(opt)) ? false : undefined,
    restart: restartPolicy(host.RestartPolicy),
    healthcheck: healthcheck(body.Healthcheck),
  };
  return { image: body.Image, options };
}

function stringList(value: string[] | string | null | undefined): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? [value] : value;
}

/** entrypoint is the body's: null or [] keeps the image's, [""] clears it (the docker CLI's `--entrypoint ""`). */
function entrypoint(value: string[] | string | null | undefined): string | string[] | undefined {
  const list = stringList(value);
  if (!list || list.length === 0) return undefined;
  if (list.length === 1 && list[0] === '') return '';
  return list;
}

/** networkMode maps Docker's `default` and `bridge` onto nbox's default; other names pass for run to check. */
function networkMode(mode: string | undefined): string | undefined {
  if (mode === undefined || mode === '' || mode === 'default' || mode === 'bridge') return undefined;
  return mode;
}

/** bind reads a Binds entry, `SOURCE:TARGET[:OPTIONS]`; the source is a host path, as Docker's. */
function bind(entry: string): { source: string; target: string; readonly: boolean } {
  const [source, target, options = ''] = entry.split(':');
  if (!source?.startsWith('/') || !target?.startsWith('/')) throw new EngineError(400, `invalid volume specification: '${entry}'`);
  return { source, target, readonly: options.split(',').includes('ro') };
}

function restartPolicy(policy: HostConfig['RestartPolicy']): string | undefined {
  if (!policy?.Name) return undefined;
  return policy.MaximumRetryCount ? `${policy.Name}:${policy.MaximumRetryCount}` : policy.Name;
}

function healthcheck(value: CreateBody['Healthcheck']): RunOptions['healthcheck'] {
  if (!value) return undefined;
  const test = value.Test ?? [];
  if (test[0] === 'NONE') return { disable: true };
  return {
    test: test.length > 0 ? test : undefined,
    interval: value.Interval || undefined,
    timeout: value.Timeout || undefined,
    startPeriod: value.StartPeriod || undefined,
    startInterval: value.StartInterval || undefined,
    retries: value.Retries || undefined,
  };
}
