// Every way a layer is made (RUN, COPY, ADD, WORKDIR, import, load in both
// archive formats, pull) gives a layer the validator of test/helpers passes:
// its diffID and size are its tar's, its gzip blob's digest and size are the
// blob's, and no path is in its tar twice.
import type { ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/image/store';
import { cli, optionalTest, rootTest, sharedTestStore, writeContext } from '../helpers/env';
import { REGISTRY_BIN, startRegistry } from '../helpers/registry';
import { validateLayer } from '../helpers/validate-layer';

const test = rootTest();
const store = sharedTestStore(test);
const registryTest = optionalTest(test, existsSync(REGISTRY_BIN) ? null : `layer validation of pull: ${REGISTRY_BIN} missing`);

// Each step below makes one layer of its own kind; RUN's second step leaves whiteouts.
const DOCKERFILE = `FROM bb
RUN mkdir -p /data/gone && echo run > /data/run && echo x > /data/gone/file
COPY copied /data/copied
ADD added /data/added/
RUN rm -rf /data/gone /etc/group && echo again >> /data/run
WORKDIR /made/by/workdir
`;

// validateImage runs the validator over each layer of an image, its gzip blob included (made on demand).
async function validateImage(t: ExecutionContext, root: string, ref: string): Promise<number> {
  const opened = await Store.open(root);
  const image = await opened.images.resolve(ref);
  for (const diffId of image.config.rootfs.diff_ids) {
    const layer = await opened.layers.get(diffId);
    t.deepEqual(await validateLayer({ diffId: layer.diffId, size: layer.size, uncompressed: () => layer.uncompressed(), compressed: () => layer.compressed() }), [], `${ref}: layer ${diffId}`);
  }
  return image.config.rootfs.diff_ids.length;
}

async function freshRoot(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-layers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'store');
}

async function buildLayered(t: ExecutionContext, tag: string): Promise<void> {
  const dir = await writeContext(t, { Dockerfile: DOCKERFILE, copied: 'copied\n', added: 'added\n' });
  const built = await cli(store.root, ['build', '-q', '-t', tag, dir]);
  t.is(built.code, 0, built.stderr);
}

test('import: the imported layer is valid', async (t) => {
  t.is(await validateImage(t, store.root, 'bb'), 1);
});

test('RUN, COPY, ADD and WORKDIR: each layer of a build is valid', async (t) => {
  await buildLayered(t, 'layers:built');
  t.is(await validateImage(t, store.root, 'layers:built'), 6);
});

for (const format of ['docker', 'oci'] as const) {
  test(`load (${format} archive): each loaded layer is valid`, async (t) => {
    await buildLayered(t, `layers:${format}`);
    const dir = await writeContext(t, {});
    const archive = join(dir, 'image.tar');
    const saved = await cli(store.root, ['save', '--format', format, '-o', archive, `layers:${format}`]);
    t.is(saved.code, 0, saved.stderr);
    const other = await freshRoot(t);
    const loaded = await cli(other, ['load', '-i', archive]);
    t.is(loaded.code, 0, loaded.stderr);
    t.is(await validateImage(t, other, `layers:${format}`), 6);
  });
}

registryTest('pull: each pulled layer is valid', async (t) => {
  const registry = await startRegistry('none');
  t.teardown(() => registry.stop());
  await buildLayered(t, 'layers:pushed');
  const ref = `${registry.host}/layers/pushed:v1`;
  t.is((await cli(store.root, ['tag', 'layers:pushed', ref])).code, 0);
  const pushed = await cli(store.root, ['push', ref]);
  t.is(pushed.code, 0, pushed.stderr);
  const other = await freshRoot(t);
  const pulled = await cli(other, ['pull', ref]);
  t.is(pulled.code, 0, pulled.stderr);
  t.is(await validateImage(t, other, ref), 6);
});
