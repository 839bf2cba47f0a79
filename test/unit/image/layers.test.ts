import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Store } from '../../../src/image/store';
import { validateLayer } from '../../helpers/validate-layer';
import { makeTar, tarStream, tempDir } from './helpers';

const stageAndDie = path.join(__dirname, 'fixtures', 'stage-and-die.js');

async function openStore(t: Parameters<typeof tempDir>[0]): Promise<Store> {
  return Store.open(path.join(await tempDir(t), 'root'));
}

async function tmpEntries(store: Store): Promise<string[]> {
  return fs.readdir(path.join(store.root.dir, 'tmp'));
}

test('a staged layer is sealed with the diffID of its tar, committed, and passes the layer validator', async (t) => {
  const store = await openStore(t);
  const staged = await store.layers.begin();
  await fs.mkdir(path.join(staged.dir, 'etc'));
  await fs.writeFile(path.join(staged.dir, 'etc', 'motd'), 'hello\n');
  await fs.mkdir(path.join(staged.scratch, 'work'), { recursive: true });
  const sealed = await staged.seal();
  t.regex(sealed.diffId, /^sha256:[0-9a-f]{64}$/);
  await t.throwsAsync(fs.stat(staged.scratch), { code: 'ENOENT' } as object, 'seal removes the scratch dir');
  t.true(await store.layers.commit(sealed));
  t.deepEqual(await tmpEntries(store), []);
  const stored = await store.layers.get(sealed.diffId);
  t.is(stored.size, sealed.size);
  t.deepEqual(await validateLayer(stored), []);
  t.is(await fs.readFile(path.join(stored.dir, 'diff', 'etc', 'motd'), 'utf8'), 'hello\n');
});

test('abort leaves nothing, twice or after a failed seal; a sealed layer is left to its owner', async (t) => {
  const store = await openStore(t);
  const staged = await store.layers.begin();
  await fs.writeFile(path.join(staged.dir, 'file'), 'x');
  await fs.mkdir(staged.scratch);
  await staged.abort();
  await staged.abort();
  t.deepEqual(await tmpEntries(store), []);
  await t.throwsAsync(staged.seal(), { code: 'ERR_NBOX_STORE', message: /sealed once: this one is aborted/ } as object);

  // A seal that fails (its directory gone) leaves a layer abort still removes.
  const failing = await store.layers.begin();
  await fs.rm(failing.dir, { recursive: true });
  await t.throwsAsync(failing.seal());
  await failing.abort();
  t.deepEqual(await tmpEntries(store), []);

  const kept = await store.layers.begin();
  const sealed = await kept.seal();
  await kept.abort();
  t.true(await store.layers.commit(sealed), 'abort after seal left the sealed layer');
});

test('a staged layer is sealed once', async (t) => {
  const store = await openStore(t);
  const staged = await store.layers.begin();
  await fs.writeFile(path.join(staged.dir, 'file'), 'x');
  const sealed = await staged.seal();
  await t.throwsAsync(staged.seal(), { code: 'ERR_NBOX_STORE', message: /sealed once: this one is sealed/ } as object);
  // The same content again is the same layer: the second commit discards its copy.
  const again = await store.layers.begin();
  await fs.writeFile(path.join(again.dir, 'file'), 'x');
  await fs.utimes(path.join(again.dir, 'file'), ...(await fs.stat(path.join(staged.dir, 'file')).then((s) => [s.atime, s.mtime] as const)));
  await fs.utimes(again.dir, ...(await fs.stat(staged.dir).then((s) => [s.atime, s.mtime] as const)));
  const twin = await again.seal();
  t.is(twin.diffId, sealed.diffId);
  t.true(await store.layers.commit(sealed));
  t.false(await store.layers.commit(twin));
  t.deepEqual(await tmpEntries(store), []);
  await twin.discard();
});

test('a layer staged by a killed process is swept when the store is next opened', async (t) => {
  const root = path.join(await tempDir(t), 'root');
  await Store.open(root);
  const child = spawn(process.execPath, [stageAndDie, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const staged = path.dirname(line.toString().trim());
  t.true((await fs.readdir(path.join(root, 'tmp'))).includes(path.basename(staged)));
  await Store.open(root);
  t.true((await fs.readdir(path.join(root, 'tmp'))).includes(path.basename(staged)), 'kept while its process lives');
  child.kill('SIGKILL');
  await once(child, 'exit');
  await Store.open(root);
  t.deepEqual(await fs.readdir(path.join(root, 'tmp')), []);
});

test('an unpacked tar is sealed with the digest of the tar as it came, and replays exactly', async (t) => {
  const store = await openStore(t);
  const tarPath = await makeTar(path.join(await tempDir(t), 'layer'), { 'bin/tool': '#!/bin/sh\n', 'etc/conf': 'a=1\n' });
  const sealed = await store.layers.unpack(tarStream(tarPath));
  const bytes = await fs.readFile(tarPath);
  t.is(sealed.diffId, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  await store.layers.commit(sealed);
  const stored = await store.layers.get(sealed.diffId);
  t.deepEqual(await validateLayer(stored), []);
  t.deepEqual(await validateLayer({ ...stored, uncompressed: () => stored.uncompressed(), compressed: () => stored.compressed() }), []);
});

test('the layer validator reports a wrong diffID, a wrong size and a path held twice', async (t) => {
  const dir = await tempDir(t);
  const tarPath = await makeTar(path.join(dir, 'twice'), { file: 'one' });
  // GNU tar appends a second member of the same name.
  await fs.writeFile(path.join(dir, 'twice', 'file'), 'two');
  const { execFileSync } = await import('node:child_process');
  execFileSync('tar', ['-C', path.join(dir, 'twice'), '-rf', tarPath, './file']);
  const bytes = await fs.readFile(tarPath);
  const problems = await validateLayer({ diffId: `sha256:${'0'.repeat(64)}`, size: 1, uncompressed: async () => Readable.from([bytes]) });
  t.is(problems.length, 3, problems.join('\n'));
  t.regex(problems[0], /^diffID sha256:0+, but the uncompressed tar hashes to sha256:/);
  t.regex(problems[1], /^size 1, but the uncompressed tar has \d+ bytes$/);
  t.is(problems[2], 'the tar holds "file" twice');
});
