// save and load on a real store: both formats, round trips that keep image IDs
// and digests, whiteouts across a round trip, interop with podman and skopeo
// both ways, and bad archives that leave the store as it was.
import type { ExecutionContext } from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cli, exitCodeOf, makeTestStore, optionalTest, rootTest, sharedTestStore, spawnCli, writeContext, type TestStore } from '../helpers/env';
import { PODMAN_RUN, hasPodman, makePodman } from '../helpers/podman';
import { tarBlock } from '../helpers/raw-tar';

const test = rootTest();
const store = sharedTestStore(test);

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-archive-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function freshStore(t: { teardown(fn: () => Promise<void>): void }): Promise<TestStore> {
  const fresh = await makeTestStore();
  t.teardown(() => fresh.cleanup());
  return fresh;
}

async function imageId(root: string, ref: string): Promise<string> {
  const inspected = await cli(root, ['inspect', ref]);
  return inspected.code === 0 ? (JSON.parse(inspected.stdout)[0].Id as string) : `no image ${ref}: ${inspected.stderr}`;
}

async function storeEntries(root: string): Promise<string[]> {
  const entries: string[] = [];
  for (const dir of ['images', 'layers', 'tmp']) entries.push(...(await readdir(join(root, dir))).map((name) => `${dir}/${name}`));
  return [...entries, await readFile(join(root, 'images/repositories.json'), 'utf8').catch(() => '')].sort();
}

// A two-layer image whose top layer deletes a file and replaces a directory: whiteouts must survive save/load.
async function buildLayered(t: ExecutionContext, root: string, tag: string): Promise<void> {
  const context = await writeContext(t, {
    Dockerfile: 'FROM bb\nRUN mkdir -p /d && echo old > /d/old && echo gone > /gone\nRUN rm /gone && rm -rf /d && mkdir /d && echo new > /d/new\nCMD ["sh"]\n',
  });
  const built = await cli(root, ['build', '-q', '-t', tag, context]);
  t.is(built.code, 0, built.stderr);
}

for (const format of ['docker', 'oci']) {
  test(`save --format ${format} then load into another store keeps the image ID, tags and whiteouts`, async (t) => {
    await buildLayered(t, store.root, `layered-${format}:v1`);
    const dir = await scratch(t);
    const file = join(dir, 'images.tar');
    const saved = await cli(store.root, ['save', '--format', format, '-o', file, `layered-${format}:v1`, 'bb']);
    t.is(saved.code, 0, saved.stderr);
    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    t.true(names.includes('index.json') && names.includes('oci-layout'));
    t.is(names.includes('manifest.json'), format === 'docker');

    const other = await freshStore(t);
    await cli(other.root, ['rmi', 'bb']);
    const loaded = await cli(other.root, ['load', '-i', file]);
    t.is(loaded.code, 0, loaded.stderr);
    t.deepEqual(loaded.stdout.trim().split('\n').sort(), [`Loaded image: bb:latest`, `Loaded image: layered-${format}:v1`]);
    t.is(await imageId(other.root, `layered-${format}:v1`), await imageId(store.root, `layered-${format}:v1`));
    const listing = await cli(other.root, ['run', '--rm', `layered-${format}:v1`, 'sh', '-c', 'ls /d; ls /gone 2>&1 || true']);
    t.is(listing.stdout, 'new\nls: /gone: No such file or directory\n');

    // Saved again from the loaded copy: byte-identical manifests (the layer tars are replayed exactly).
    const again = join(dir, 'again.tar');
    t.is((await cli(other.root, ['save', '--format', format, '-o', again, `layered-${format}:v1`])).code, 0);
    const index = (f: string) => JSON.parse(execFileSync('tar', ['-xOf', f, 'index.json'], { encoding: 'utf8' })).manifests.map((m: { digest: string }) => m.digest);
    t.true(index(file).includes(index(again)[0]));
  });
}

test('save of a bare name saves all its tags; load reads stdin and gzip', async (t) => {
  t.is((await cli(store.root, ['tag', 'bb', 'multi:one'])).code, 0);
  t.is((await cli(store.root, ['tag', 'bb', 'multi:two'])).code, 0);
  const dir = await scratch(t);
  t.is((await cli(store.root, ['save', '-o', join(dir, 'multi.tar'), 'multi'])).code, 0);
  execFileSync('gzip', [join(dir, 'multi.tar')]);
  const other = await freshStore(t);
  const fromStdin = execFileSync('node', ['--', join(__dirname, '../../src/cli/main.js'), '--root', other.root, 'load'], { input: await readFile(join(dir, 'multi.tar.gz')), encoding: 'utf8' });
  t.deepEqual(fromStdin.trim().split('\n').sort(), ['Loaded image: multi:one', 'Loaded image: multi:two']);
});

test('a foreign tar, a tampered blob or a truncated archive fails on one line and leaves the store as it was', async (t) => {
  const dir = await scratch(t);
  const before = await storeEntries(store.root);
  await writeFile(join(dir, 'note.txt'), 'not an image');
  execFileSync('tar', ['-C', dir, '-cf', join(dir, 'foreign.tar'), 'note.txt']);
  const foreign = await cli(store.root, ['load', '-i', join(dir, 'foreign.tar')]);
  t.is(foreign.code, 1);
  t.is(foreign.stderr, 'nbox: load: not an image archive: it holds neither manifest.json (docker-archive) nor index.json (OCI layout)\n');

  // An OCI archive with one layer blob's bytes changed.
  const other = await freshStore(t);
  await buildLayered(t, other.root, 'tamper:v1');
  t.is((await cli(other.root, ['save', '--format', 'oci', '-o', join(dir, 'good.tar'), 'tamper:v1'])).code, 0);
  const unpacked = join(dir, 'unpacked');
  execFileSync('mkdir', [unpacked]);
  execFileSync('tar', ['-C', unpacked, '-xf', join(dir, 'good.tar')]);
  const manifestDigest = JSON.parse(await readFile(join(unpacked, 'index.json'), 'utf8')).manifests[0].digest.slice(7);
  const top = JSON.parse(await readFile(join(unpacked, 'blobs/sha256', manifestDigest), 'utf8')).layers.at(-1).digest.slice(7);
  const blob = await readFile(join(unpacked, 'blobs/sha256', top));
  execFileSync('tar', ['-C', unpacked, '-cf', join(dir, 'retar.tar'), '.']);
  const retar = await readFile(join(dir, 'retar.tar'));
  blob[blob.length - 20] ^= 0xff;
  await writeFile(join(unpacked, 'blobs/sha256', top), blob);
  execFileSync('tar', ['-C', unpacked, '-cf', join(dir, 'tampered.tar'), '.']);
  const tampered = await cli(store.root, ['load', '-i', join(dir, 'tampered.tar')]);
  t.is(tampered.code, 1, tampered.stderr);
  t.regex(tampered.stderr, /^nbox: load: (layer blob sha256:[0-9a-f]{64} does not match its descriptor: received sha256:[0-9a-f]{64}|reading layer: )/);
  t.is(tampered.stderr.split('\n').length, 2);

  await writeFile(join(dir, 'truncated.tar'), retar.subarray(0, Math.floor(retar.length / 2)));
  const truncated = await cli(store.root, ['load', '-i', join(dir, 'truncated.tar')]);
  t.is(truncated.code, 1);
  t.regex(truncated.stderr, /^nbox: load: /);
  t.deepEqual(await storeEntries(store.root), before);
});

test('an archive whose manifest names a layer it lacks fails on one line and leaves the store as it was', async (t) => {
  const dir = await scratch(t);
  const other = await freshStore(t);
  await buildLayered(t, other.root, 'lacking:v1');
  const before = await storeEntries(store.root);
  for (const format of ['docker', 'oci']) {
    const unpacked = join(dir, format);
    execFileSync('mkdir', [unpacked]);
    t.is((await cli(other.root, ['save', '--format', format, '-o', join(dir, `${format}.tar`), 'lacking:v1'])).code, 0);
    execFileSync('tar', ['-C', unpacked, '-xf', join(dir, `${format}.tar`)]);
    const manifestDigest = JSON.parse(await readFile(join(unpacked, 'index.json'), 'utf8')).manifests[0].digest.slice(7);
    const top = JSON.parse(await readFile(join(unpacked, 'blobs/sha256', manifestDigest), 'utf8')).layers.at(-1).digest.slice(7);
    await rm(join(unpacked, 'blobs/sha256', top));
    execFileSync('tar', ['-C', unpacked, '-cf', join(dir, `${format}-lacking.tar`), '.']);
    const r = await cli(store.root, ['load', '-i', join(dir, `${format}-lacking.tar`)]);
    t.is(r.code, 1, format);
    t.is(r.stderr, `nbox: load: the archive lacks blobs/sha256/${top}\n`, format);
  }
  t.deepEqual(await storeEntries(store.root), before);
});

// unpackedSave saves bb as a docker archive and unpacks it in a scratch dir, for a test to tamper with.
async function unpackedSave(t: ExecutionContext) {
  const dir = await scratch(t);
  t.is((await cli(store.root, ['save', '-o', join(dir, 'bb.tar'), 'bb'])).code, 0);
  const unpacked = join(dir, 'unpacked');
  await mkdir(unpacked);
  execFileSync('tar', ['-C', unpacked, '-xf', join(dir, 'bb.tar')]);
  const manifest = JSON.parse(await readFile(join(unpacked, 'manifest.json'), 'utf8'));
  return { dir, unpacked, manifest };
}

test('a manifest naming a member outside the archive (.., ../x, an absolute path) fails on one line, nothing read there', async (t) => {
  const { dir, unpacked, manifest } = await unpackedSave(t);
  const before = await storeEntries(store.root);
  for (const member of ['..', '../x', 'a/../..', '/etc/passwd']) {
    for (const field of ['Config', 'Layers']) {
      const entry = { ...manifest[0], [field]: field === 'Layers' ? [member] : member };
      await writeFile(join(unpacked, 'manifest.json'), JSON.stringify([entry]));
      execFileSync('tar', ['-C', unpacked, '-cf', join(dir, 'out.tar'), '.']);
      const loaded = await cli(store.root, ['load', '-i', join(dir, 'out.tar')]);
      t.is(loaded.stderr, `nbox: load: invalid path in archive manifest: ${JSON.stringify(member)}\n`, `${field} ${member}`);
      t.is(loaded.code, 1);
    }
  }
  t.deepEqual(await storeEntries(store.root), before);
});

test('an image whose config has fields of the wrong JSON type is refused as it is loaded, on one line', async (t) => {
  const { dir, unpacked, manifest } = await unpackedSave(t);
  const config = JSON.parse(await readFile(join(unpacked, manifest[0].Config), 'utf8'));
  const before = await storeEntries(store.root);
  const cases: Array<[string, unknown, string]> = [
    ['User', 7, 'cannot unmarshal number into Go struct field Config.User of type string'],
    ['Env', ['A=1', 5], 'cannot unmarshal array into Go struct field Config.Env of type []string'],
    ['Cmd', 'sh', 'cannot unmarshal string into Go struct field Config.Cmd of type []string'],
  ];
  for (const [field, value, message] of cases) {
    const bytes = Buffer.from(JSON.stringify({ ...config, config: { ...config.config, [field]: value } }));
    const name = `${createHash('sha256').update(bytes).digest('hex')}.json`;
    await writeFile(join(unpacked, name), bytes);
    await writeFile(join(unpacked, 'manifest.json'), JSON.stringify([{ ...manifest[0], Config: name, RepoTags: ['odd:latest'] }]));
    execFileSync('tar', ['-C', unpacked, '-cf', join(dir, 'odd.tar'), '.']);
    const loaded = await cli(store.root, ['load', '-i', join(dir, 'odd.tar')]);
    t.is(loaded.stderr, `nbox: load: invalid image config: json: ${message}\n`, field);
    t.is(loaded.code, 1, field);
  }
  t.deepEqual(await storeEntries(store.root), before);
  // A member given twice is its last copy, as Docker reads an archive: here a manifest naming the odd config, then bb's.
  await writeFile(join(unpacked, 'manifest.json'), JSON.stringify([{ ...manifest[0], RepoTags: ['twice:latest'] }]));
  execFileSync('tar', ['-C', unpacked, '-rf', join(dir, 'odd.tar'), 'manifest.json']);
  const twice = await cli(store.root, ['load', '-i', join(dir, 'odd.tar')]);
  t.is(twice.code, 0, twice.stderr);
  t.is(await imageId(store.root, 'twice:latest'), await imageId(store.root, 'bb'));
  await cli(store.root, ['rmi', 'twice:latest']);
});

test('an OCI layout whose nested indexes fan out or nest without end fails on one line, at once', async (t) => {
  const dir = await scratch(t);
  const before = await storeEntries(store.root);
  const layout = async (name: string, top: unknown, blobs: Buffer[]) => {
    const root = join(dir, name);
    await mkdir(join(root, 'blobs/sha256'), { recursive: true });
    for (const blob of blobs) await writeFile(join(root, 'blobs/sha256', createHash('sha256').update(blob).digest('hex')), blob);
    await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(root, 'index.json'), JSON.stringify(top));
    execFileSync('tar', ['-C', root, '-cf', join(dir, `${name}.tar`), '.']);
    return join(dir, `${name}.tar`);
  };
  const indexOf = (child: Buffer, times: number) => Buffer.from(JSON.stringify({
    schemaVersion: 2,
    manifests: Array.from({ length: times }, () => ({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${createHash('sha256').update(child).digest('hex')}`, size: child.length })),
  }));
  // 70 indexes of 70 (a hostile one nests deeper: 200 a level, three levels, is 8 million blob reads).
  const leaf = indexOf(Buffer.from('{}'), 0);
  const middle = indexOf(leaf, 70);
  const wide = await layout('wide', JSON.parse(indexOf(middle, 70).toString()), [leaf, middle]);
  const chain = [indexOf(Buffer.from('{}'), 0)];
  for (let level = 0; level < 10; level++) chain.push(indexOf(chain[chain.length - 1], 1));
  const deep = await layout('deep', JSON.parse(chain.pop()!.toString()), chain);
  const [fanned, nested] = await Promise.all([cli(store.root, ['load', '-i', wide]), cli(store.root, ['load', '-i', deep])]);
  t.is(fanned.stderr, 'nbox: load: index.json: more than 4096 manifests\n');
  t.is(nested.stderr, 'nbox: load: index.json: image indexes nest more than 8 deep\n');
  t.deepEqual([fanned.code, nested.code], [1, 1]);
  t.deepEqual(await storeEntries(store.root), before);
});

// A layer that gives member x as a file and again as a symlink to a host file: GNU tar leaves
// the symlink where the layer's tar-split expects the file, and save replays that split.
test('save of a loaded layer whose file became a symlink to a host file refuses and sends none of the host file', async (t) => {
  const dir = await scratch(t);
  const secret = join(dir, 'host-secret');
  await writeFile(secret, 'HOST-SECRET-1234\n');
  await mkdir(join(dir, 'file'));
  await mkdir(join(dir, 'link'));
  await writeFile(join(dir, 'file/x'), 'harmless-content\n');
  await symlink(secret, join(dir, 'link/x'));
  const archive = join(dir, 'archive');
  await mkdir(archive);
  execFileSync('tar', ['-C', join(dir, 'file'), '-cf', join(archive, 'layer.tar'), 'x']);
  execFileSync('tar', ['-C', join(dir, 'link'), '-rf', join(archive, 'layer.tar'), 'x']);
  const diffId = `sha256:${createHash('sha256').update(await readFile(join(archive, 'layer.tar'))).digest('hex')}`;
  const architecture = process.arch === 'x64' ? 'amd64' : process.arch;
  await writeFile(join(archive, 'config.json'), JSON.stringify({ architecture, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  await writeFile(join(archive, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['twice-member:v1'], Layers: ['layer.tar'] }]));
  execFileSync('tar', ['-C', archive, '-cf', join(dir, 'image.tar'), '.']);
  const other = await freshStore(t);
  const loaded = await cli(other.root, ['load', '-i', join(dir, 'image.tar')]);
  t.is(loaded.code, 0, loaded.stderr);

  // Into a FIFO, which save writes straight into: what it sends before it fails is what a reader gets.
  const fifo = join(dir, 'out.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = promisify(execFile)('cat', [fifo], { encoding: 'latin1', maxBuffer: 64 << 20 });
  const saved = await cli(other.root, ['save', '-o', fifo, 'twice-member:v1']);
  // Had save failed before it opened the FIFO, the reader would wait for ever: a writer's close ends it.
  await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((handle) => handle.close(), () => undefined);
  const received = (await reader).stdout;
  t.false(received.includes('HOST-SECRET'), 'no byte of the host file leaves in the archive');
  t.is(saved.code, 1);
  t.regex(saved.stderr, /^nbox: layer sha256:[0-9a-f]{64}: x cannot be opened: ELOOP\n$/);
});

const interop = optionalTest(test, hasPodman() ? null : 'podman interop tests: podman missing');

interop('podman loads and runs what nbox saves, in both formats, with the same image ID', async (t) => {
  const podman = await makePodman();
  t.teardown(() => podman.cleanup());
  const dir = await scratch(t);
  await buildLayered(t, store.root, 'to-podman:v1');
  const id = (await imageId(store.root, 'to-podman:v1')).slice('sha256:'.length);
  for (const format of ['docker', 'oci']) {
    t.is((await cli(store.root, ['save', '--format', format, '-o', join(dir, `${format}.tar`), 'to-podman:v1'])).code, 0);
    t.regex(await podman.podman(['load', '-i', join(dir, `${format}.tar`)]), /Loaded image: docker\.io\/library\/to-podman:v1/);
    t.is((await podman.podman(['image', 'inspect', '--format', '{{.Id}}', 'docker.io/library/to-podman:v1'])).trim(), id);
  }
  t.is(await podman.podman([...PODMAN_RUN, 'docker.io/library/to-podman:v1', 'sh', '-c', 'ls /d; test -e /gone || echo gone']), 'new\ngone\n');
});

interop('nbox loads and runs what podman saves and what skopeo copies, in both formats', async (t) => {
  const podman = await makePodman();
  t.teardown(() => podman.cleanup());
  const dir = await scratch(t);
  await buildLayered(t, store.root, 'round:v1');
  t.is((await cli(store.root, ['save', '-o', join(dir, 'nbox.tar'), 'round:v1'])).code, 0);
  await podman.podman(['load', '-i', join(dir, 'nbox.tar')]);
  await podman.podman(['tag', 'docker.io/library/round:v1', 'localhost/from-podman:v2']);
  await podman.podman(['save', '--format', 'docker-archive', '-o', join(dir, 'p-docker.tar'), 'localhost/from-podman:v2']);
  await podman.podman(['save', '--format', 'oci-archive', '-o', join(dir, 'p-oci.tar'), 'localhost/from-podman:v2']);
  execFileSync('skopeo', ['copy', '--quiet', `${podman.storage}localhost/from-podman:v2`, `oci-archive:${join(dir, 's-oci.tar')}:localhost/from-skopeo:v3`]);
  const expected = await imageId(store.root, 'round:v1');
  for (const [file, tag] of [['p-docker.tar', 'localhost/from-podman:v2'], ['p-oci.tar', 'localhost/from-podman:v2'], ['s-oci.tar', 'localhost/from-skopeo:v3']]) {
    const other = await freshStore(t);
    const loaded = await cli(other.root, ['load', '-i', join(dir, file)]);
    t.is(loaded.code, 0, `${file}: ${loaded.stderr}`);
    t.is(loaded.stdout, `Loaded image: ${tag}\n`);
    t.is(await imageId(other.root, tag), expected, file);
    t.is((await cli(other.root, ['run', '--rm', tag, 'cat', '/d/new'])).stdout, 'new\n');
  }
});

test('load interrupted by SIGINT or SIGTERM leaves nothing in the store: what it had under way goes before it exits', async (t) => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const child = spawnCli(store.root, ['load']);
    child.stdout!.resume();
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin!.on('error', () => {});
    // A tar whose first member is 64 MiB, of which 1 MiB comes: the load holds it in tmp/, waiting for the rest.
    const header = tarBlock('blob', 64 << 20, '0');
    child.stdin!.write(Buffer.concat([header, Buffer.alloc(1 << 20)]));
    const mine = async () => (await readdir(join(store.root, 'tmp'))).filter((name) => name.startsWith(`${child.pid}-`));
    for (let tries = 0; tries < 400 && (await mine()).length === 0; tries++) await new Promise((done) => setTimeout(done, 25));
    t.not((await mine()).length, 0, `the load has its temp entry: ${stderr}`);
    child.kill(signal);
    t.is(await exitCodeOf(child), code, signal);
    t.deepEqual(await mine(), [], signal);
  }
});
