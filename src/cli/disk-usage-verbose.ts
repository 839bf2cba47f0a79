// `system df -v`: the docker CLI's verbose disk usage, one table per kind
// (images, containers, local volumes, build cache) with its columns.
import { splitReference, since, type ImageRecord, type Nbox, type UsageItem } from '../api';
import { CONTAINER_HEADERS, containerRow } from './container-rows';
import { humanSize, shortId, table } from './format';
import { renderFormat } from './template';

const CONTAINERS_FORMAT = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.LocalVolumes}}\\t{{.Size}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Names}}';

/** verboseDiskUsage is `docker system df -v`'s report, without its last newline. */
export async function verboseDiskUsage(nbox: Nbox): Promise<string> {
  const [usage, volumes, images, containers] = await Promise.all([
    nbox.diskUsage(), nbox.volumes.usage(), nbox.images(), nbox.listContainers({ all: true }),
  ]);
  const now = new Date();
  const sharedSizes = new Map(usage.images.items.map((item) => [item.id, item.sharedSize ?? 0]));
  const imageRows = images.map((image) => {
    const users = containers.filter((c) => c.config.image === image.id).length;
    return imageRow(image, sharedSizes.get(image.id) ?? 0, users, now);
  });
  // As the docker CLI: a container's own bytes, not its virtual size.
  const written = new Map(usage.containers.items.map((item) => [item.id, item.size]));
  const containerRows = containers.map((c) => containerRow({ ...c, size: { rw: written.get(c.config.id) ?? 0, rootFs: 0 } }, now, true));
  const volumeRows = volumes.items.map((item) => [item.id, String(item.refCount ?? 0), humanSize(item.size, 4)]);
  const cacheRows = [...usage.buildCache.items].sort(byLastUse).map((item) => cacheRow(item, now));
  return [
    'Images space usage:',
    '',
    table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'], imageRows),
    '',
    'Containers space usage:',
    '',
    renderFormat(CONTAINERS_FORMAT, containerRows, CONTAINER_HEADERS),
    '',
    'Local Volumes space usage:',
    '',
    table(['VOLUME NAME', 'LINKS', 'SIZE'], volumeRows),
    '',
    `Build cache usage: ${humanSize(usage.buildCache.size, 4)}`,
    '',
    table(['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED'], cacheRows),
  ].join('\n');
}

// An image by its first tag; the shared size is of layers other images hold too, the unique size the rest.
function imageRow(image: ImageRecord, sharedSize: number, containers: number, now: Date): string[] {
  const name = image.tags.length > 0 ? splitReference(image.tags[0]) : { repository: '<none>', tag: '<none>' };
  return [
    name.repository, name.tag ?? '<none>', shortId(image.id), since(wholeSeconds(image.created), now),
    humanSize(image.size), humanSize(sharedSize, 4), humanSize(image.size - sharedSize, 4), String(containers),
  ];
}

function cacheRow(item: UsageItem, now: Date): string[] {
  const created = item.created ? since(item.created, now) : '';
  const lastUsed = item.lastUsed ? since(item.lastUsed, now) : '';
  return [shortId(item.id), item.cacheType ?? 'regular', humanSize(item.size), created, lastUsed, '0', 'false'];
}

// The docker CLI's order: never used first, then least recently used, ties by ID.
function byLastUse(a: UsageItem, b: UsageItem): number {
  const [x, y] = [a.lastUsed?.getTime(), b.lastUsed?.getTime()];
  if (x !== y) return x === undefined ? -1 : y === undefined ? 1 : x - y;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// The API gives image times in whole seconds.
function wholeSeconds(date: Date): Date {
  return new Date(Math.trunc(date.getTime() / 1000) * 1000);
}
