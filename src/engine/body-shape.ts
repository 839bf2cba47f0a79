// The JSON types of a container create body's fields, checked before any is
// read: a client's string where a list belongs is its 400, as the daemon's.
import { isJsonObject, misfit, type JsonKind } from '../json-shape';
import { EngineError } from './http';

const CONFIG: Record<string, JsonKind> = {
  Image: 'string', Cmd: 'string or strings', Entrypoint: 'string or strings', Env: 'strings', User: 'string', WorkingDir: 'string',
  Hostname: 'string', Labels: 'string map', Tty: 'bool', OpenStdin: 'bool', ExposedPorts: 'object', Volumes: 'object',
  StopSignal: 'string', StopTimeout: 'number', Healthcheck: 'object', HostConfig: 'object', NetworkingConfig: 'object',
};

const HOST_CONFIG: Record<string, JsonKind> = {
  Binds: 'strings', Mounts: 'objects', PortBindings: 'port map', AutoRemove: 'bool', NetworkMode: 'string', PublishAllPorts: 'bool',
  ExtraHosts: 'strings', Dns: 'strings', DnsSearch: 'strings', DnsOptions: 'strings', VolumesFrom: 'strings', CapAdd: 'strings',
  CapDrop: 'strings', Privileged: 'bool', ReadonlyRootfs: 'bool', SecurityOpt: 'strings', Devices: 'objects',
  DeviceCgroupRules: 'strings', Sysctls: 'string map', GroupAdd: 'strings', Tmpfs: 'string map', Init: 'bool',
  RestartPolicy: 'object', LogConfig: 'object', PidMode: 'string', IpcMode: 'string', UTSMode: 'string',
};

/** checkCreateBody refuses (400) a body whose known fields have the wrong JSON type. */
export function checkCreateBody(body: Record<string, unknown>): void {
  const wrong = misfit(body, CONFIG, 'Config') ?? (isJsonObject(body.HostConfig) ? misfit(body.HostConfig, HOST_CONFIG, 'HostConfig') : undefined);
  if (wrong) throw new EngineError(400, wrong);
}
