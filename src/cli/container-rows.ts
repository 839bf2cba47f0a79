// A listed container's --format fields, as the docker CLI's ContainerContext
// fills them from the Engine API's container summary: `ps`'s rows, and the
// containers of `system df -v`.
import {
  containerMounts, familiarReference, healthStatus, listedCommand, networkNames, psPorts, psStatus, since, stateName,
  type ContainerSize, type ListedContainer, type MountInspect,
} from '../api';
import { ellipsis, humanSize, shortId } from './format';
import { goTimeString } from './local-time';
import { labelMethod, type Row } from './template';

/** CONTAINER_HEADERS name each field's table column, as the docker CLI does. */
export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES', HealthStatus: 'HEALTH STATUS', Label: 'LABEL',
};

const DEFAULT_FORMAT = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';

/** psFormat is the format ps prints with, picked as the docker CLI's NewContainerFormat picks it: IDs alone with -q;
 * the default table when none is given or `table` alone is, with a SIZE column when sizes are shown; else the one given. */
export function psFormat(format: string | undefined, quiet: boolean, size: boolean): string {
  if (quiet) return '{{.ID}}';
  if (!format || format === 'table') return size ? `${DEFAULT_FORMAT}\\t{{.Size}}` : DEFAULT_FORMAT;
  return format;
}

/** containerRow is one container's fields; trunc is the listing's truncation (off with --no-trunc). */
export function containerRow(c: ListedContainer, now: Date, trunc: boolean): Row {
  const { config, state } = c;
  const command = listedCommand(config.argv);
  const mounts = containerMounts(c);
  return {
    Command: JSON.stringify(trunc ? ellipsis(command, 20) : command),
    CreatedAt: goTimeString(new Date(config.created)),
    // As the API gives it from v1.52: `none` without a health check.
    HealthStatus: healthStatus(state),
    ID: trunc ? shortId(config.id) : config.id,
    Image: imageName(config.imageRef, config.image, trunc),
    Label: labelMethod(config.labels),
    Labels: Object.entries(config.labels).map(([key, value]) => `${key}=${value}`).sort().join(','),
    LocalVolumes: String(mounts.filter((mount) => mount.Driver === 'local').length),
    Mounts: mounts.map((mount) => mountName(mount, trunc)).join(','),
    Names: config.name,
    Networks: networkNames(config).join(','),
    Ports: psPorts(c),
    // The API gives the creation time in whole seconds.
    RunningFor: since(new Date(Math.trunc(Date.parse(config.created) / 1000) * 1000), now),
    Size: sizeText(c.size),
    State: stateName(state),
    Status: psStatus(state, now),
  };
}

/** sizeText is the SIZE column: the writable layer's size, and the virtual one (with the image's) when known:
 * "2B (virtual 4.26MB)"; "0B" for a listing without sizes. */
export function sizeText(size: ContainerSize | undefined): string {
  const rw = humanSize(size?.rw ?? 0);
  return size && size.rootFs > 0 ? `${rw} (virtual ${humanSize(size.rootFs)})` : rw;
}

// A truncated listing shows the image as its short ID when it was named by ID, else by its familiar name.
function imageName(ref: string, id: string, trunc: boolean): string {
  if (ref === '') return '<no image>';
  if (!trunc) return ref;
  return shortId(id) === shortId(ref) ? shortId(id) : familiarReference(ref);
}

// A volume by its name, anything else by its source.
function mountName(mount: MountInspect, trunc: boolean): string {
  const name = mount.Name || mount.Source;
  return trunc ? ellipsis(name, 15) : name;
}

