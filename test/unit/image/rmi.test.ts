import test from 'ava';
import * as path from 'node:path';
import type { ImageConfig } from '../../../src/image/oci';
import { listedImages } from '../../../src/image/reference-filter';
import { removeImage, type ImageUser } from '../../../src/image/rmi';
import { Store } from '../../../src/image/store';
import { tempDir } from './helpers';

function configBytes(author: string): Buffer {
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', author, config: {}, rootfs: { type: 'layers', diff_ids: [] } };
  return Buffer.from(JSON.stringify(config));
}

async function openStore(t: Parameters<typeof tempDir>[0]): Promise<Store> {
  return Store.open(path.join(await tempDir(t), 'root'));
}

const nobody = async (): Promise<ImageUser[]> => [];

test('rmi of one of several names untags it; by ID it must be forced, then the image goes', async (t) => {
  const store = await openStore(t);
  const id = await store.images.add(configBytes('a'), ['app:1', 'app:2']);
  t.deepEqual(await removeImage(store.images, { ref: 'app:1', force: false, users: nobody }), { untagged: ['app:1'], deleted: [] });
  await store.images.tag(id, 'other');
  await t.throwsAsync(removeImage(store.images, { ref: id, force: false, users: nobody }), {
    code: 'ERR_NBOX_CONFLICT',
    message: `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
  } as object);
  t.deepEqual(await removeImage(store.images, { ref: id, force: true, users: nobody }), { untagged: ['app:2', 'other:latest'], deleted: [id] });
  t.deepEqual(await store.images.list(), []);
});

test('an image a container uses is not deleted: refused, or forced, only stripped of its names', async (t) => {
  const store = await openStore(t);
  const id = await store.images.add(configBytes('b'), ['used']);
  const users = async () => [{ id: 'c'.repeat(64), image: id }];
  await t.throwsAsync(removeImage(store.images, { ref: 'used', force: false, users }), {
    code: 'ERR_NBOX_CONFLICT',
    message: `conflict: unable to remove repository reference "used" (must force) - container cccccccccccc is using its referenced image ${id.slice(7, 19)}`,
  } as object);
  t.deepEqual(await removeImage(store.images, { ref: 'used', force: true, users }), { untagged: ['used:latest'], deleted: [] });
  t.true(await store.images.has(id));
});

test('deleting a built image deletes the intermediate images nothing else needs', async (t) => {
  const store = await openStore(t);
  const base = await store.images.add(configBytes('base'), ['base']);
  const step = await store.images.add(configBytes('step'), [], base);
  const top = await store.images.add(configBytes('top'), ['top'], step);
  t.deepEqual(listedImages(await store.images.list(), {}).map((image) => image.id).sort(), [base, top].sort(), 'the intermediate image is listed only with all');
  t.is(listedImages(await store.images.list(), { all: true }).length, 3);
  t.deepEqual(listedImages(await store.images.list(), { reference: 'to*' }).map((image) => image.tags), [['top:latest']]);
  t.deepEqual(await removeImage(store.images, { ref: 'top', force: false, users: nobody }), { untagged: ['top:latest'], deleted: [top, step] });
  t.true(await store.images.has(base), 'a named parent stays');
});
