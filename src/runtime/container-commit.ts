// `docker commit`: a new image made of the container's image plus one layer,
// the container's writable layer, with the container's config (its command,
// env, user, workdir, labels) and `--change` instructions on top. A container
// with snapshots (container-snapshot.ts) adds a layer per snapshot below that
// one, as they lie in its overlay: each keeps its whiteouts, nothing is merged.
import { basename } from 'node:path';

import { NboxError } from '../errors';
import { applyChanges } from '../image/changes';
import type { HistoryEntry, ImageConfig, ImageConfigBody } from '../image/oci';
import { normalizeTag } from '../image/reference';
import type { SealedLayer } from '../image/layers';
import type { Store } from '../image/store';
import { liveLayerTar } from '../image/tar/writer';
import { unpackLayer } from '../image/tar/unpack';
import type { ContainerRecord } from './container-record';
import { writableLayerDirs } from './snapshot-layers';
import { freezeCgroup } from './cgroup';
import { removeMountStubs } from './mount-stubs';
import { isRunning } from './stop';
import { isoTime } from '../iso-time';

/** CommitOptions are docker commit's flags and its optional REPO[:TAG]. */
export interface CommitOptions {
  /** `-c` instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR. */
  changes?: string[];
  message?: string;
  author?: string;
  reference?: string;
  /** Freeze a running container while its layer is copied, so the layer is one moment of it (default true, as Docker). */
  pause?: boolean;
}

// The instructions docker commit takes (import takes STOPSIGNAL too; commit does not).
const COMMIT_CHANGES = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR']);

/** commitContainer stores the new image and returns its ID (`sha256:…`); on failure the store is as it was. */
export async function commitContainer(store: Store, record: ContainerRecord, options: CommitOptions = {}): Promise<string> {
  for (const change of options.changes ?? []) {
    const keyword = (/^\s*(\S*)/.exec(change)?.[1] ?? '').toUpperCase();
    if (!COMMIT_CHANGES.has(keyword)) throw changeError(`dockerfile parse error line 1: ${keyword || change} is not a valid change command`);
  }
  const tags = options.reference ? [normalizeTag(options.reference)] : [];
  const image = await store.images.resolve(record.config.image);
  let body: ImageConfigBody;
  try {
    body = applyChanges(options.changes ?? [], containerBody(image.config.config ?? {}, record));
  } catch (err) {
    throw err instanceof NboxError ? changeError(err.message) : err;
  }
  // Oldest first, as an image lists its layers; the upper dir last.
  const dirs = writableLayerDirs(record.dir).reverse();
  const layers: SealedLayer[] = [];
  try {
    await frozenWhile(record, options.pause ?? true, async () => {
      for (const dir of dirs) layers.push(await writableLayer(store, dir));
    });
    const created = isoTime();
    const createdBy = record.config.argv.join(' ');
    const history: HistoryEntry = { created, created_by: createdBy };
    if (options.author) history.author = options.author;
    if (options.message) history.comment = options.message;
    const snapshots: HistoryEntry[] = dirs.slice(0, -1).map((dir) => ({ created, created_by: createdBy, comment: `nbox snapshot ${basename(dir)}` }));
    const config: ImageConfig = {
      ...image.config,
      created,
      config: body,
      rootfs: { type: 'layers', diff_ids: [...image.config.rootfs.diff_ids, ...layers.map((layer) => layer.diffId)] },
      history: [...(image.config.history ?? []), ...snapshots, history],
    };
    if (options.author) config.author = options.author;
    else delete config.author;
    return await store.images.commit(layers, Buffer.from(JSON.stringify(config)), tags, image.id);
  } finally {
    for (const layer of layers) await layer.discard();
  }
}

// A bad change is the daemon's answer in Docker (exit 1), not bad usage of the command line.
function changeError(message: string): NboxError {
  return new NboxError('ERR_NBOX_DOCKERFILE', message);
}

// containerBody is the image's config as the container ran it: Docker commits
// the container's config, which `run` made from the image's and its flags.
function containerBody(imageBody: ImageConfigBody, record: ContainerRecord): ImageConfigBody {
  const { config } = record;
  const imageEnv = new Set((imageBody.Env ?? []).map((entry) => entry.split('=', 1)[0]));
  // HOSTNAME and HOME are given to the process at start, not kept in the config (as Docker).
  const env = config.env.filter((entry) => imageEnv.has(entry.split('=', 1)[0]) || !['HOSTNAME', 'HOME'].includes(entry.split('=', 1)[0]));
  const body: ImageConfigBody = { ...imageBody, Env: env, Cmd: config.cmd ?? undefined, Entrypoint: config.entrypoint ?? undefined };
  if (config.user) body.User = config.user;
  if (config.workingDir && config.workingDir !== '/') body.WorkingDir = config.workingDir;
  if (Object.keys(config.labels).length > 0) body.Labels = { ...imageBody.Labels, ...config.labels };
  return body;
}

// frozenWhile runs copy with a running container's cgroup frozen, unless pause is off or the user paused it already.
async function frozenWhile<T>(record: ContainerRecord, pause: boolean, copy: () => Promise<T>): Promise<T> {
  const cgroup = record.state.cgroup;
  if (!pause || !cgroup || record.state.paused || !isRunning(record)) return copy();
  await freezeCgroup(cgroup, true);
  try {
    return await copy();
  } finally {
    await freezeCgroup(cgroup, false);
  }
}

// writableLayer copies a layer the container wrote (its upper dir, a snapshot) into a new layer, through its
// OCI tar (whiteouts and opaque dirs as `.wh.` entries, turned back into
// overlay's on unpack), without the runtime's mount stubs.
async function writableLayer(store: Store, layerDir: string): Promise<SealedLayer> {
  const staged = await store.layers.begin();
  try {
    await unpackLayer(liveLayerTar(layerDir), staged.dir);
    removeMountStubs(staged.dir);
    return await staged.seal();
  } catch (err) {
    await staged.abort();
    throw err;
  }
}
