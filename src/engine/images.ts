// Image endpoints: list, inspect, history, tag, remove, pull (create), import,
// push, load and save (get).
import type { ServerResponse } from 'node:http';

import { pullHeader, pullStatus, splitReference, type ContainerRecord, type ImageRecord } from '../api';
import type { RequestContext, Routes, Handler } from './router';
import { EngineError, filterList, flag, sendJson } from './http';
import { streamed } from './json-stream';
import { registryAuth } from './registry-auth';

async function list(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const containers = await ctx.nbox.listContainers({ all: true });
  const images = await ctx.nbox.images({ all: flag(ctx.query, 'all'), filters: filterList(ctx.query) });
  sendJson(res, 200, images.map((image) => imageSummary(image, containers)));
}

/** imageSummary is an image as `/images/json` and `/system/df` list it. */
export function imageSummary(image: ImageRecord, containers: ContainerRecord[], sharedSize = -1): Record<string, unknown> {
  return {
    Id: image.id,
    ParentId: image.parent ?? '',
    RepoTags: image.tags,
    RepoDigests: image.repoDigests,
    Created: Math.floor(image.created.getTime() / 1000),
    Size: image.size,
    SharedSize: sharedSize,
    Labels: image.config.config?.Labels ?? null,
    Containers: containers.filter((c) => c.config.image === image.id).length,
  };
}

async function inspect(ctx: RequestContext, res: ServerResponse): Promise<void> {
  sendJson(res, 200, await ctx.nbox.inspectImage(ctx.params.name));
}

async function history(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const items = await ctx.nbox.history(ctx.params.name);
  sendJson(
    res,
    200,
    items.map((item) => ({
      Id: item.id,
      Created: item.created ? Math.floor(item.created.getTime() / 1000) : 0,
      CreatedBy: item.createdBy,
      Tags: item.tags.length > 0 ? item.tags : null,
      Size: item.size,
      Comment: item.comment,
    })),
  );
}

async function tag(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const repo = ctx.query.get('repo');
  if (!repo) throw new EngineError(400, 'repository name must have at least one component');
  const tagName = ctx.query.get('tag') || 'latest';
  await ctx.nbox.tag(ctx.params.name, `${repo}:${tagName}`);
  ctx.state.emit('image', 'tag', ctx.params.name, { name: `${repo}:${tagName}` });
  res.writeHead(201);
  res.end();
}

async function remove(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const result = await ctx.nbox.removeImage(ctx.params.name, { force: flag(ctx.query, 'force') });
  for (const name of result.untagged) ctx.state.emit('image', 'untag', name);
  for (const id of result.deleted) ctx.state.emit('image', 'delete', id);
  sendJson(res, 200, [...result.untagged.map((name) => ({ Untagged: name })), ...result.deleted.map((id) => ({ Deleted: id }))]);
}

/** create is `docker pull` (fromImage) or `docker import` (fromSrc=-, the body is the tar). */
async function create(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const fromImage = ctx.query.get('fromImage');
  const fromSrc = ctx.query.get('fromSrc');
  if (fromSrc !== null) {
    if (fromSrc !== '-') throw new EngineError(400, 'importing from a URL is not supported: send the tar as the body (fromSrc=-)');
    const repo = ctx.query.get('repo');
    const tagName = ctx.query.get('tag');
    const tags = repo ? [tagName ? `${repo}:${tagName}` : repo] : [];
    const message = ctx.query.get('message') ?? undefined;
    const changes = ctx.query.getAll('changes');
    await streamed(res, async (messages) => {
      const id = await ctx.nbox.importImage(ctx.req, { tags, changes, message });
      ctx.state.emit('image', 'import', id);
      messages.status(id);
    });
    return;
  }
  if (!fromImage) throw new EngineError(400, 'fromImage or fromSrc is required');
  const credentials = registryAuth(ctx.req);
  const tagName = ctx.query.get('tag');
  // Docker sends the tag apart; a digest comes as the tag too.
  const ref = tagName ? (tagName.startsWith('sha256:') ? `${fromImage}@${tagName}` : `${fromImage}:${tagName}`) : fromImage;
  await streamed(res, async (messages) => {
    let header = false;
    const result = await ctx.nbox.pull(ref, {
      credentials,
      progress: (event) => {
        if (!header) messages.status(pullHeader(ref).replace(/^(\S+): /, ''), splitReference(ref).tag ?? 'latest');
        header = true;
        messages.status(event.status, event.id, { current: event.current, total: event.total });
      },
    });
    for (const line of pullStatus(ref, result)) messages.status(line);
    ctx.state.emit('image', 'pull', ref);
  });
}

async function push(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const tagName = ctx.query.get('tag');
  const ref = tagName ? `${ctx.params.name}:${tagName}` : ctx.params.name;
  const credentials = registryAuth(ctx.req);
  await streamed(res, async (messages) => {
    const result = await ctx.nbox.push(ref, { credentials, progress: (event) => messages.status(event.status, event.id, { current: event.current, total: event.total }) });
    messages.status(`${result.tag}: digest: ${result.digest} size: ${result.size}`);
    messages.write({ progressDetail: {}, aux: { Tag: result.tag, Digest: result.digest, Size: result.size } });
    ctx.state.emit('image', 'push', ref);
  });
}

/** prune is `docker image prune`: the dangling images, or with the filter dangling=false every unused one. */
async function prune(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const filters = filterList(ctx.query);
  const unsupported = filters.find((f) => !f.startsWith('dangling='));
  if (unsupported) throw new EngineError(400, `invalid filter '${unsupported.split('=')[0]}'`);
  const all = filters.some((f) => f === 'dangling=false' || f === 'dangling=0');
  const result = await ctx.nbox.pruneImages({ all });
  const deleted = result.deleted.map((item) => ('untagged' in item ? { Untagged: item.untagged } : { Deleted: item.deleted }));
  for (const item of result.deleted) if ('deleted' in item) ctx.state.emit('image', 'delete', item.deleted);
  sendJson(res, 200, { ImagesDeleted: deleted, SpaceReclaimed: result.spaceReclaimed });
}

async function load(ctx: RequestContext, res: ServerResponse): Promise<void> {
  await streamed(res, async (messages) => {
    for (const image of await ctx.nbox.loadImages(ctx.req)) {
      ctx.state.emit('image', 'load', image.id);
      if (image.tags.length === 0) messages.stream(`Loaded image ID: ${image.id}\n`);
      for (const name of image.tags) messages.stream(`Loaded image: ${name}\n`);
    }
  });
}

async function save(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const names = ctx.params.name ? [ctx.params.name] : ctx.query.getAll('names');
  if (names.length === 0) throw new EngineError(400, 'no images named');
  const archive = await ctx.nbox.saveImages(names);
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  archive.pipe(res);
  await new Promise<void>((resolve, reject) => {
    res.once('finish', resolve);
    res.once('close', resolve);
    archive.once('error', reject);
  });
}

/** addImageRoutes adds the image endpoints. */
export function addImageRoutes(routes: Routes<Handler>): void {
  routes
    .add('GET', '/images/json', list)
    .add('POST', '/images/create', create)
    .add('POST', '/images/load', load)
    .add('POST', '/images/prune', prune)
    .add('GET', '/images/get', save)
    .add('GET', '/images/{name*}/get', save)
    .add('GET', '/images/{name*}/json', inspect)
    .add('GET', '/images/{name*}/history', history)
    .add('POST', '/images/{name*}/tag', tag)
    .add('POST', '/images/{name*}/push', push)
    .add('DELETE', '/images/{name*}', remove);
}
