import test from 'ava';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LayerDigest } from '../../../src/image/tar/unpack';
import { ImageConfig } from '../../../src/image/oci';
import { Store } from '../../../src/image/store';
import { makeTar, tarStream, tempDir } from './helpers';

function configBytes(diffIds: string[], extra: Partial<ImageConfig> = {}): Buffer {
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds }, ...extra };
  return Buffer.from(JSON.stringify(config));
}

function imageId(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function openStore(t: Parameters<typeof tempDir>[0]): Promise<Store> {
  return Store.open(path.join(await tempDir(t), 'root'));
}

async function importLayer(t: Parameters<typeof tempDir>[0], store: Store, files: Record<string, string>): Promise<LayerDigest> {
  const tarPath = await makeTar(path.join(await tempDir(t), 'layer'), files);
  const layer = await store.layers.unpack(tarStream(tarPath));
  await store.layers.commit(layer);
  return { diffId: layer.diffId, size: layer.size };
}

test('addImage stores config bytes exactly and resolves by name, id and prefix', async (t) => {
  const store = await openStore(t);
  const bytes = configBytes([], { created: '2024-01-02T03:04:05Z' });
  const id = await store.images.add(bytes, ['busybox', 'host:5000/a/b:v1']);
  t.is(id, imageId(bytes));
  t.deepEqual(await fs.readFile(path.join(store.root.dir, 'images', id.slice(7), 'config.json')), bytes);
  t.is(await store.images.add(bytes, []), id, 'idempotent');
  for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'host:5000/a/b:v1', id, id.slice(7), id.slice(7, 8), `sha256:${id.slice(7, 19)}`]) {
    t.is((await store.images.resolve(ref)).id, id, ref);
  }
  const image = await store.images.resolve('busybox');
  t.deepEqual(image.tags.sort(), ['busybox:latest', 'host:5000/a/b:v1']);
  t.deepEqual(image.created, new Date('2024-01-02T03:04:05Z'));
  t.is(image.size, 0);
});

test('resolveImage reports unknown references and ambiguous prefixes', async (t) => {
  const store = await openStore(t);
  // Among 17 images, two IDs share their first hex digit.
  const seen = new Set<string>();
  let shared = '';
  for (let i = 0; !shared; i++) {
    const first = (await store.images.add(configBytes([], { author: String(i) }), []))[7];
    if (seen.has(first)) shared = first;
    seen.add(first);
  }
  await t.throwsAsync(store.images.resolve(shared), { code: 'ERR_NBOX_USAGE', message: /^ambiguous image ID prefix/ } as object);
  await t.throwsAsync(store.images.resolve('nothere'), { code: 'ERR_NBOX_NO_SUCH_IMAGE', message: 'No such image: nothere' } as object);
  await t.throwsAsync(store.images.resolve(`sha256:${'0'.repeat(64)}`), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await t.throwsAsync(store.images.resolve('Bad:Name'), { code: 'ERR_NBOX_USAGE' } as object);
});

test('retagging moves the tag; tag and untag update repositories.json', async (t) => {
  const store = await openStore(t);
  const first = await store.images.add(configBytes([], { author: 'first' }), ['app']);
  const second = await store.images.add(configBytes([], { author: 'second' }), ['app', 'app:2']);
  t.deepEqual((await store.images.resolve(first)).tags, []);
  t.is((await store.images.resolve('app')).id, second);
  await store.images.tag(first, 'old');
  t.is((await store.images.resolve('old:latest')).id, first);
  t.is(await store.images.untag('app:2'), second);
  await t.throwsAsync(store.images.resolve('app:2'), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await t.throwsAsync(store.images.untag('app:2'), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await t.throwsAsync(store.images.tag('missing', 'x'), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  const repositories = JSON.parse(await fs.readFile(path.join(store.root.dir, 'images', 'repositories.json'), 'utf8'));
  t.deepEqual(repositories, { 'app:latest': second, 'old:latest': first });
});

test('names left by a removal killed before it rewrote them resolve to nothing and go at the next write', async (t) => {
  const store = await openStore(t);
  const doomed = await store.images.add(configBytes([], { author: 'doomed' }), ['doomed', 'doomed:2']);
  const kept = await store.images.add(configBytes([], { author: 'kept' }), ['kept']);
  // removeImage frees the image first: this is the store a kill -9 right after leaves.
  await fs.rm(path.join(store.root.dir, 'images', doomed.slice(7)), { recursive: true });
  await t.throwsAsync(store.images.resolve('doomed'), { code: 'ERR_NBOX_NO_SUCH_IMAGE', message: 'No such image: doomed' } as object);
  t.deepEqual((await store.images.list()).map((image) => image.id), [kept]);
  await store.images.tag('kept', 'other');
  const repositories = JSON.parse(await fs.readFile(path.join(store.root.dir, 'images', 'repositories.json'), 'utf8'));
  t.deepEqual(repositories, { 'kept:latest': kept, 'other:latest': kept });
});

test('layers: layerDirs is topmost first; removeImage collects the layers no image uses', async (t) => {
  const store = await openStore(t);
  const { diffId: base, size: baseSize } = await importLayer(t, store, { 'etc/base': 'base' });
  const { diffId: top, size: topSize } = await importLayer(t, store, { 'etc/top': 'top' });
  const { diffId: other } = await importLayer(t, store, { 'etc/other': 'other' });
  const layerDir = (diffId: string) => path.join(store.root.dir, 'layers', diffId.slice(7));
  const config = JSON.parse(configBytes([base, top]).toString()) as ImageConfig;
  t.deepEqual(await store.layers.dirs(config), [path.join(layerDir(top), 'diff'), path.join(layerDir(base), 'diff')]);
  t.is(await fs.readFile(path.join(layerDir(top), 'diff', 'etc', 'top'), 'utf8'), 'top');

  const both = await store.images.add(configBytes([base, top]), ['both']);
  const onlyBase = await store.images.add(configBytes([base]), ['base']);
  t.is((await store.images.resolve('both')).size, baseSize + topSize);
  t.deepEqual((await store.images.list()).map((image) => image.id).sort(), [both, onlyBase].sort());

  await store.images.remove(both);
  t.true(await store.layers.has(base), 'still used by base');
  t.false(await store.layers.has(top));
  t.false(await store.layers.has(other), 'no image used it');
  await t.throwsAsync(store.images.resolve('both'), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await store.images.remove(onlyBase);
  t.false(await store.layers.has(base));
  t.deepEqual(await store.images.list(), []);
  t.deepEqual(await fs.readdir(path.join(store.root.dir, 'tmp')), []);
  await t.throwsAsync(store.images.remove(onlyBase), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await t.throwsAsync(store.layers.dirs(config), { code: 'ERR_NBOX_STORE', message: /layer sha256:[0-9a-f]{64} is missing from the store/ } as object);
});

test('pinned layers (a running build) survive removals until the pin is released', async (t) => {
  const store = await openStore(t);
  const { diffId: base } = await importLayer(t, store, { 'etc/base': 'base' });
  const { diffId: spare } = await importLayer(t, store, { 'etc/spare': 'spare' });
  const first = await store.images.add(configBytes([base]), ['first']);
  const unpin = await store.layers.pin();
  await store.images.remove(first);
  t.true(await store.layers.has(base), 'pinned while the build runs');
  await unpin();
  const second = await store.images.add(configBytes([spare]), ['second']);
  await store.images.remove(second);
  t.false(await store.layers.has(base));
  t.false(await store.layers.has(spare));
});

test('addImage refuses a config whose layers are not stored', async (t) => {
  const store = await openStore(t);
  await t.throwsAsync(store.images.add(configBytes([`sha256:${'1'.repeat(64)}`]), ['x']), { code: 'ERR_NBOX_STORE' } as object);
  await t.throwsAsync(store.images.add(Buffer.from('{}'), []), { code: 'ERR_NBOX_STORE', message: /^invalid image config/ } as object);
  t.deepEqual(await store.images.list(), []);
});

test('corrupt store files give ERR_NBOX_STORE with a one-line message', async (t) => {
  const store = await openStore(t);
  const id = await store.images.add(configBytes([]), ['app']);
  const repositories = path.join(store.root.dir, 'images', 'repositories.json');
  await fs.writeFile(repositories, 'not json{');
  const err = await t.throwsAsync(store.images.resolve('app'), { code: 'ERR_NBOX_STORE' } as object);
  t.true(err!.message.startsWith(`corrupt store file ${repositories}: `));
  t.false(err!.message.includes('\n'));
  await fs.writeFile(repositories, '["a"]');
  await t.throwsAsync(store.images.list(), { code: 'ERR_NBOX_STORE' } as object);
  await fs.writeFile(repositories, '{}');
  await fs.rm(path.join(store.root.dir, 'images', id.slice(7), 'config.json'));
  await t.throwsAsync(store.images.resolve(id), { code: 'ERR_NBOX_STORE', message: /^corrupt store file .*config\.json: missing$/ } as object);
});
