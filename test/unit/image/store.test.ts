import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LayerDigest } from '../../../src/image/tar/unpack';
import { ImageConfig } from '../../../src/image/oci';
import { Store } from '../../../src/image/store';
import { processStartTime } from '../../../src/sys/proc';
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
  return store.importLayer(tarStream(tarPath));
}

test('open creates the layout', async (t) => {
  const store = await openStore(t);
  for (const entry of ['tmp', 'layers', 'images', 'containers']) t.true((await fs.stat(path.join(store.root, entry))).isDirectory(), entry);
  t.true((await fs.stat(path.join(store.root, 'lock'))).isFile());
  t.is(store.containersDir, path.join(store.root, 'containers'));
  t.true((await fs.stat(store.containersDir)).isDirectory());
});

test('addImage stores config bytes exactly and resolves by name, id and prefix', async (t) => {
  const store = await openStore(t);
  const bytes = configBytes([], { created: '2024-01-02T03:04:05Z' });
  const id = await store.addImage(bytes, ['busybox', 'host:5000/a/b:v1']);
  t.is(id, imageId(bytes));
  t.deepEqual(await fs.readFile(path.join(store.root, 'images', id.slice(7), 'config.json')), bytes);
  t.is(await store.addImage(bytes, []), id, 'idempotent');
  for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'host:5000/a/b:v1', id, id.slice(7), id.slice(7, 8), `sha256:${id.slice(7, 19)}`]) {
    t.is((await store.resolveImage(ref)).id, id, ref);
  }
  const image = await store.resolveImage('busybox');
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
    const first = (await store.addImage(configBytes([], { author: String(i) }), []))[7];
    if (seen.has(first)) shared = first;
    seen.add(first);
  }
  await t.throwsAsync(store.resolveImage(shared), { code: 'ERR_NBOX_USAGE', message: /^ambiguous image ID prefix/ } as object);
  await t.throwsAsync(store.resolveImage('nothere'), { code: 'ERR_NBOX_NO_SUCH_IMAGE', message: 'No such image: nothere' } as object);
  await t.throwsAsync(store.resolveImage(`sha256:${'0'.repeat(64)}`), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await t.throwsAsync(store.resolveImage('Bad:Name'), { code: 'ERR_NBOX_USAGE' } as object);
});

test('retagging moves the tag; tag and untag update repositories.json', async (t) => {
  const store = await openStore(t);
  const first = await store.addImage(configBytes([], { author: 'first' }), ['app']);
  const second = await store.addImage(configBytes([], { author: 'second' }), ['app', 'app:2']);
  t.deepEqual((await store.resolveImage(first)).tags, []);
  t.is((await store.resolveImage('app')).id, second);
  await store.tag(first, 'old');
  t.is((await store.resolveImage('old:latest')).id, first);
  t.is(await store.untag('app:2'), second);
  await t.throwsAsync(store.resolveImage('app:2'), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await t.throwsAsync(store.untag('app:2'), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await t.throwsAsync(store.tag('missing', 'x'), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  const repositories = JSON.parse(await fs.readFile(path.join(store.root, 'images', 'repositories.json'), 'utf8'));
  t.deepEqual(repositories, { 'app:latest': second, 'old:latest': first });
});

test('names left by a removal killed before it rewrote them resolve to nothing and go at the next write', async (t) => {
  const store = await openStore(t);
  const doomed = await store.addImage(configBytes([], { author: 'doomed' }), ['doomed', 'doomed:2']);
  const kept = await store.addImage(configBytes([], { author: 'kept' }), ['kept']);
  // removeImage frees the image first: this is the store a kill -9 right after leaves.
  await fs.rm(path.join(store.root, 'images', doomed.slice(7)), { recursive: true });
  await t.throwsAsync(store.resolveImage('doomed'), { code: 'ERR_NBOX_NO_SUCH_IMAGE', message: 'No such image: doomed' } as object);
  t.deepEqual((await store.listImages()).map((image) => image.id), [kept]);
  await store.tag('kept', 'other');
  const repositories = JSON.parse(await fs.readFile(path.join(store.root, 'images', 'repositories.json'), 'utf8'));
  t.deepEqual(repositories, { 'kept:latest': kept, 'other:latest': kept });
});

test('layers: layerDirs is topmost first; removeImage collects the layers no image uses', async (t) => {
  const store = await openStore(t);
  const { diffId: base, size: baseSize } = await importLayer(t, store, { 'etc/base': 'base' });
  const { diffId: top, size: topSize } = await importLayer(t, store, { 'etc/top': 'top' });
  const { diffId: other } = await importLayer(t, store, { 'etc/other': 'other' });
  const layerDir = (diffId: string) => path.join(store.root, 'layers', diffId.slice(7));
  const config = JSON.parse(configBytes([base, top]).toString()) as ImageConfig;
  t.deepEqual(await store.layerDirs(config), [path.join(layerDir(top), 'diff'), path.join(layerDir(base), 'diff')]);
  t.is(await fs.readFile(path.join(layerDir(top), 'diff', 'etc', 'top'), 'utf8'), 'top');

  const both = await store.addImage(configBytes([base, top]), ['both']);
  const onlyBase = await store.addImage(configBytes([base]), ['base']);
  t.is((await store.resolveImage('both')).size, baseSize + topSize);
  t.deepEqual((await store.listImages()).map((image) => image.id).sort(), [both, onlyBase].sort());

  await store.removeImage(both);
  t.true(await store.hasLayer(base), 'still used by base');
  t.false(await store.hasLayer(top));
  t.false(await store.hasLayer(other), 'no image used it');
  await t.throwsAsync(store.resolveImage('both'), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await store.removeImage(onlyBase);
  t.false(await store.hasLayer(base));
  t.deepEqual(await store.listImages(), []);
  t.deepEqual(await fs.readdir(path.join(store.root, 'tmp')), []);
  await t.throwsAsync(store.removeImage(onlyBase), { code: 'ERR_NBOX_NO_SUCH_IMAGE' } as object);
  await t.throwsAsync(store.layerDirs(config), { code: 'ERR_NBOX_STORE', message: /layer sha256:[0-9a-f]{64} is missing from the store/ } as object);
});

test('pinned layers (a running build) survive removals until the pin is released', async (t) => {
  const store = await openStore(t);
  const { diffId: base } = await importLayer(t, store, { 'etc/base': 'base' });
  const { diffId: spare } = await importLayer(t, store, { 'etc/spare': 'spare' });
  const first = await store.addImage(configBytes([base]), ['first']);
  const unpin = await store.pinLayers();
  await store.removeImage(first);
  t.true(await store.hasLayer(base), 'pinned while the build runs');
  await unpin();
  const second = await store.addImage(configBytes([spare]), ['second']);
  await store.removeImage(second);
  t.false(await store.hasLayer(base));
  t.false(await store.hasLayer(spare));
});

test('addImage refuses a config whose layers are not stored', async (t) => {
  const store = await openStore(t);
  await t.throwsAsync(store.addImage(configBytes([`sha256:${'1'.repeat(64)}`]), ['x']), { code: 'ERR_NBOX_STORE' } as object);
  await t.throwsAsync(store.addImage(Buffer.from('{}'), []), { code: 'ERR_NBOX_STORE', message: /^invalid image config/ } as object);
  t.deepEqual(await store.listImages(), []);
});

test('open removes temp entries of dead processes and keeps live ones and names it did not make', async (t) => {
  const root = path.join(await tempDir(t), 'root');
  await Store.open(root);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const own = `${process.pid}-${processStartTime(process.pid)}`;
  const entries = {
    dead: `${dead}-12345-aaaaaaaaaaaa`,
    reused: `${process.pid}-1-bbbbbbbbbbbb-layer`,
    live: `${own}-cccccccccccc`,
    liveFile: `${own}-dddddddddddd-gzip`,
    foreign: 'garbage',
    foreignNumbered: `${dead}-12345-report.txt`,
  };
  for (const [key, name] of Object.entries(entries)) {
    if (key === 'liveFile') await fs.writeFile(path.join(root, 'tmp', name), 'x');
    else await fs.mkdir(path.join(root, 'tmp', name, 'sub'), { recursive: true });
  }
  await Store.open(root);
  t.deepEqual((await fs.readdir(path.join(root, 'tmp'))).sort(), [entries.live, entries.liveFile, entries.foreign, entries.foreignNumbered].sort());
});

test('writeFileAtomic replaces the file and leaves no temp file', async (t) => {
  const store = await openStore(t);
  const target = path.join(store.containersDir, 'state.json');
  await store.writeFileAtomic(target, 'one');
  await store.writeFileAtomic(target, Buffer.from('two'));
  t.is(await fs.readFile(target, 'utf8'), 'two');
  await t.throwsAsync(store.writeFileAtomic(path.join(store.root, 'no', 'such', 'dir'), 'x'), { code: 'ENOENT' } as object);
  t.deepEqual(await fs.readdir(path.join(store.root, 'tmp')), []);
  const made = await store.makeTempDir('build');
  t.regex(path.basename(made), new RegExp(`^${process.pid}-\\d+-[0-9a-f]{12}-build$`));
  await store.removeTree(made);
  await store.removeTree(made);
  t.deepEqual(await fs.readdir(path.join(store.root, 'tmp')), []);
});

test('withLock is exclusive within a process and reentrant', async (t) => {
  const store = await openStore(t);
  const other = await Store.open(store.root);
  const events: string[] = [];
  const hold = (s: Store, name: string) =>
    s.withLock(async () => {
      events.push(`${name}+`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      t.is(await s.withLock(async () => name), name);
      events.push(`${name}-`);
    });
  await Promise.all([hold(store, 'a'), hold(other, 'b'), hold(store, 'c')]);
  for (let i = 0; i < events.length; i += 2) t.is(events[i].slice(0, 1), events[i + 1].slice(0, 1));
});

test('corrupt store files give ERR_NBOX_STORE with a one-line message', async (t) => {
  const store = await openStore(t);
  const id = await store.addImage(configBytes([]), ['app']);
  const repositories = path.join(store.root, 'images', 'repositories.json');
  await fs.writeFile(repositories, 'not json{');
  const err = await t.throwsAsync(store.resolveImage('app'), { code: 'ERR_NBOX_STORE' } as object);
  t.true(err!.message.startsWith(`corrupt store file ${repositories}: `));
  t.false(err!.message.includes('\n'));
  await fs.writeFile(repositories, '["a"]');
  await t.throwsAsync(store.listImages(), { code: 'ERR_NBOX_STORE' } as object);
  await fs.writeFile(repositories, '{}');
  await fs.rm(path.join(store.root, 'images', id.slice(7), 'config.json'));
  await t.throwsAsync(store.resolveImage(id), { code: 'ERR_NBOX_STORE', message: /^corrupt store file .*config\.json: missing$/ } as object);
});
