// A container's files over the API: archive GET/HEAD/PUT (docker cp), and export.
import type { ServerResponse } from 'node:http';
import { constants } from 'node:fs';
import { pipeline } from 'node:stream/promises';

import { NboxError, type PathStat } from '../api';
import type { RequestContext, Routes, Handler } from './router';
import { EngineError, flag } from './http';

/** goFileMode is a Unix mode as Go's os.FileMode, which the docker CLI reads from the path stat. */
export function goFileMode(mode: number): number {
  const type = mode & constants.S_IFMT;
  let bits = mode & 0o777;
  if (type === constants.S_IFDIR) bits += 2 ** 31;
  else if (type === constants.S_IFLNK) bits += 2 ** 27;
  else if (type === constants.S_IFIFO) bits += 2 ** 25;
  else if (type === constants.S_IFSOCK) bits += 2 ** 24;
  else if (type === constants.S_IFBLK) bits += 2 ** 26;
  else if (type === constants.S_IFCHR) bits += 2 ** 26 + 2 ** 21;
  if (mode & 0o4000) bits += 2 ** 23;
  if (mode & 0o2000) bits += 2 ** 22;
  if (mode & 0o1000) bits += 2 ** 20;
  return bits;
}

/** statHeader is X-Docker-Container-Path-Stat: the stat as base64 JSON. */
function statHeader(stat: PathStat): string {
  const body = { name: stat.name, size: stat.size, mode: goFileMode(stat.mode), mtime: stat.mtime.toISOString(), linkTarget: stat.linkTarget };
  return Buffer.from(JSON.stringify(body)).toString('base64');
}

function archivePath(ctx: RequestContext): string {
  const path = ctx.query.get('path');
  if (!path) throw new EngineError(400, 'path is required');
  return path;
}

/** notFound turns cp's missing path into Docker's 404. */
async function notFound<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof NboxError && /no such file|could not find/i.test(err.message)) throw new EngineError(404, err.message);
    throw err;
  }
}

async function getArchive(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const path = archivePath(ctx);
  const stat = await notFound(ctx.nbox.statContainerPath(ctx.params.id, path));
  if (ctx.req.method === 'HEAD') {
    res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
    res.end();
    return;
  }
  const tar = await notFound(ctx.nbox.copyFromContainer(ctx.params.id, path));
  res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
  await pipeline(tar, res);
}

async function putArchive(ctx: RequestContext, res: ServerResponse): Promise<void> {
  await notFound(ctx.nbox.copyToContainer(ctx.params.id, archivePath(ctx), ctx.req, { keepOwners: flag(ctx.query, 'copyUIDGID') }));
  res.writeHead(200);
  res.end();
}

async function exportContainer(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const tar = await ctx.nbox.exportContainer(ctx.params.id);
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await pipeline(tar, res);
}

/** addContainerFileRoutes adds archive and export. */
export function addContainerFileRoutes(routes: Routes<Handler>): void {
  routes
    .add('GET', '/containers/{id}/archive', getArchive)
    .add('PUT', '/containers/{id}/archive', putArchive)
    .add('GET', '/containers/{id}/export', exportContainer);
}
