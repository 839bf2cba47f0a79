import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readImageFile } from '../../../src/image/rootfs-file';

// Whiteouts are character devices 0:0, which only root can create.
const asRoot = process.getuid?.() === 0 ? test : test.skip;

type Node = string | { link: string } | { dir: true } | { whiteout: true };
type Layer = Record<string, Node>;

// makeLayers builds one directory per layer (topmost first) from path -> node maps.
async function makeLayers(layers: Layer[]): Promise<{ dirs: string[]; cleanup: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'nbox-rootfs-'));
  const dirs: string[] = [];
  for (const [index, layer] of layers.entries()) {
    const dir = join(base, `layer${index}`);
    await mkdir(dir);
    for (const [path, node] of Object.entries(layer)) {
      const target = join(dir, path);
      await mkdir(dirname(target), { recursive: true });
      if (typeof node === 'string') await writeFile(target, node);
      else if ('link' in node) await symlink(node.link, target);
      else if ('dir' in node) await mkdir(target, { recursive: true });
      else execFileSync('mknod', [target, 'c', '0', '0']);
    }
    dirs.push(dir);
  }
  return { dirs, cleanup: () => rm(base, { recursive: true, force: true }) };
}

async function read(layers: Layer[], path: string, isOpaque?: (dir: string) => boolean): Promise<string | null> {
  const { dirs, cleanup } = await makeLayers(layers);
  try {
    const bytes = await readImageFile(dirs, path, isOpaque && ((dir) => isOpaque(dir.slice(dir.indexOf('/layer') + 1))));
    return bytes === null ? null : bytes.toString();
  } finally {
    await cleanup();
  }
}

test('reads a file from a single layer', async (t) => {
  t.is(await read([{ 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n' }], '/etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
});

test('returns bytes as a Buffer', async (t) => {
  const { dirs, cleanup } = await makeLayers([{ 'bin/blob': '\u00ff' }]);
  t.teardown(cleanup);
  const bytes = await readImageFile(dirs, '/bin/blob');
  t.true(Buffer.isBuffer(bytes));
});

test('a missing file, directory or layer list is null', async (t) => {
  t.is(await read([{ 'etc/hosts': 'x' }], '/etc/passwd'), null);
  t.is(await read([{ 'etc/hosts': 'x' }], '/nope/passwd'), null);
  t.is(await readImageFile([], '/etc/passwd'), null);
});

test('an upper layer file hides the lower one', async (t) => {
  t.is(await read([{ 'etc/passwd': 'upper' }, { 'etc/passwd': 'lower' }], '/etc/passwd'), 'upper');
});

test('directories merge across layers', async (t) => {
  const layers: Layer[] = [{ 'etc/group': 'g' }, { 'etc/passwd': 'p' }];
  t.is(await read(layers, '/etc/passwd'), 'p');
  t.is(await read(layers, '/etc/group'), 'g');
});

test('relative paths, dot and duplicate slashes resolve from the root', async (t) => {
  t.is(await read([{ 'etc/passwd': 'p' }], 'etc//./passwd'), 'p');
});

test('a directory, the root or a path through a file is not a file', async (t) => {
  t.is(await read([{ 'etc/passwd': 'p' }], '/etc'), null);
  t.is(await read([{ 'etc/passwd': 'p' }], '/'), null);
  t.is(await read([{ 'etc/passwd': 'p' }], '/etc/passwd/x'), null);
});

test('an upper non-directory hides a lower directory', async (t) => {
  t.is(await read([{ etc: 'now a file' }, { 'etc/passwd': 'p' }], '/etc/passwd'), null);
});

test('an upper directory hides lower directories below a lower non-directory', async (t) => {
  // layer0 has etc/, layer1 replaced etc with a file, layer2 had etc/passwd: overlay stops at layer1.
  t.is(await read([{ 'etc/group': 'g' }, { etc: 'file' }, { 'etc/passwd': 'p' }], '/etc/passwd'), null);
});

test('an opaque directory hides the contents of lower layers', async (t) => {
  const layers: Layer[] = [{ 'etc/group': 'g' }, { 'etc/passwd': 'p' }];
  t.is(await read(layers, '/etc/passwd', (dir) => dir === 'layer0/etc'), null);
  t.is(await read(layers, '/etc/group', (dir) => dir === 'layer0/etc'), 'g');
});

test('an opaque layer root hides lower layers entirely', async (t) => {
  t.is(await read([{ 'etc/group': 'g' }, { 'etc/passwd': 'p' }], '/etc/passwd', (dir) => dir === 'layer0'), null);
});

test('an opaque directory in a lower layer still merges with the layers above it', async (t) => {
  const layers: Layer[] = [{ 'etc/group': 'g' }, { 'etc/passwd': 'p' }, { 'etc/shadow': 's' }];
  t.is(await read(layers, '/etc/passwd', (dir) => dir === 'layer1/etc'), 'p');
  t.is(await read(layers, '/etc/shadow', (dir) => dir === 'layer1/etc'), null);
});

test('a relative symlink resolves next to the link', async (t) => {
  t.is(await read([{ 'etc/passwd': { link: 'passwd.real' }, 'etc/passwd.real': 'real' }], '/etc/passwd'), 'real');
});

test('a symlinked directory resolves, across layers', async (t) => {
  t.is(await read([{ etc: { link: 'usr/etc' } }, { 'usr/etc/passwd': 'p' }], '/etc/passwd'), 'p');
});

test('an absolute symlink stays inside the image root', async (t) => {
  // Pointing at the host's /etc/passwd must read the image's own copy.
  t.is(await read([{ 'etc/passwd': { link: '/real/passwd' }, 'real/passwd': 'image copy' }], '/etc/passwd'), 'image copy');
  t.is(await read([{ 'etc/passwd': { link: '/etc/hostname' } }], '/etc/passwd'), null);
});

test('an absolute directory symlink to the same name (etc -> /etc) does not escape', async (t) => {
  t.is(await read([{ etc: { link: '/etc' } }], '/etc/passwd'), null);
});

test('.. is clamped at the image root', async (t) => {
  t.is(await read([{ 'etc/passwd': 'p' }], '/../../etc/passwd'), 'p');
  t.is(await read([{ 'etc/passwd': { link: '../../../../etc/shadow' }, 'etc/shadow': 's' }], '/etc/passwd'), 's');
});

test('.. after a symlinked directory goes to the link target parent', async (t) => {
  const layers: Layer[] = [{ 'etc/conf': { link: '/opt/app/conf' }, 'opt/app/conf/x': 'x', 'opt/app/passwd': 'app passwd', 'etc/passwd': 'etc passwd' }];
  t.is(await read(layers, '/etc/conf/../passwd'), 'app passwd');
});

test('40 symlink hops resolve, 41 do not', async (t) => {
  const chain = (length: number): Layer => {
    const layer: Layer = { target: 'end' };
    for (let hop = 0; hop < length; hop++) layer[`l${hop}`] = { link: hop === length - 1 ? 'target' : `l${hop + 1}` };
    return layer;
  };
  t.is(await read([chain(40)], '/l0'), 'end');
  t.is(await read([chain(41)], '/l0'), null);
});

test('a symlink loop is null', async (t) => {
  t.is(await read([{ a: { link: 'b' }, b: { link: '/a' } }], '/a'), null);
});

test('a dangling symlink is null', async (t) => {
  t.is(await read([{ 'etc/passwd': { link: 'nowhere' } }], '/etc/passwd'), null);
});

test('a symlink in an upper layer hides a lower file', async (t) => {
  t.is(await read([{ 'etc/passwd': { link: 'alt' }, 'etc/alt': 'alt' }, { 'etc/passwd': 'lower' }], '/etc/passwd'), 'alt');
});

test('a FIFO is not read', async (t) => {
  const { dirs, cleanup } = await makeLayers([{ etc: { dir: true } }]);
  t.teardown(cleanup);
  execFileSync('mkfifo', [join(dirs[0], 'etc/passwd')]);
  t.is(await readImageFile(dirs, '/etc/passwd'), null);
});

asRoot('a whiteout hides the lower file', async (t) => {
  t.is(await read([{ 'etc/passwd': { whiteout: true } }, { 'etc/passwd': 'p' }], '/etc/passwd'), null);
});

asRoot('a whiteout of a directory hides everything below it', async (t) => {
  t.is(await read([{ etc: { whiteout: true } }, { 'etc/passwd': 'p' }], '/etc/passwd'), null);
});

asRoot('a file recreated above a whiteout is visible', async (t) => {
  t.is(await read([{ 'etc/passwd': 'new' }, { 'etc/passwd': { whiteout: true } }, { 'etc/passwd': 'old' }], '/etc/passwd'), 'new');
});

asRoot('a directory recreated above a whiteout does not merge with what was deleted', async (t) => {
  const layers: Layer[] = [{ 'etc/group': 'g' }, { etc: { whiteout: true } }, { 'etc/passwd': 'p' }];
  t.is(await read(layers, '/etc/group'), 'g');
  t.is(await read(layers, '/etc/passwd'), null);
});

asRoot('a character device other than 0:0 is not a whiteout, and is not read', async (t) => {
  const { dirs, cleanup } = await makeLayers([{ dev: { dir: true } }, { 'dev/null': 'lower' }]);
  t.teardown(cleanup);
  execFileSync('mknod', [join(dirs[0], 'dev/null'), 'c', '1', '3']);
  t.is(await readImageFile(dirs, '/dev/null'), null);
});
