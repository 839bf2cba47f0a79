// Every context under test/fixtures/compare/ built by nbox and by buildah
// (scripts/compare-buildah-all) must give the same image: run config and
// flattened file tree, except for the differences listed here, each with the
// reason it is buildah that differs from Docker. All state (nbox's store,
// buildah's root and runroot, the scripts' scratch) lives in one temporary
// directory, removed after the tests with whatever was mounted under it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { optionalTest, rootTest } from '../helpers/env';

const REPO = resolve(__dirname, '../../..');
const CONTEXTS = join(REPO, 'test/fixtures/compare');

const buildahMissing = spawnSync('buildah', ['--version']).status === 0 ? null : 'the buildah comparison: buildah is not installed';
const test = optionalTest(rootTest(), buildahMissing);

/** Differences is how two builds of a context differ: config fields as [nbox, buildah], and tree lines only one side has. */
interface Differences {
  config: Record<string, [unknown, unknown]>;
  nboxOnly: string[];
  buildahOnly: string[];
}

// buildah 1.28 leaves the empty mount stubs of a RUN in its layer (dockerfile-semantics.md §2.9).
const RUN_STUBS = [
  './etc/hostname f 755 0:0 0  e3b0c44298fc1c14',
  './etc/hosts f 755 0:0 0  e3b0c44298fc1c14',
  './etc/resolv.conf f 755 0:0 0  e3b0c44298fc1c14',
  './run d 755 0:0 -',
];

// KNOWN lists, per context, the differences that are buildah's and not nbox's.
const KNOWN: Record<string, Partial<Differences>> = {
  expansion: { buildahOnly: RUN_STUBS },
  whiteouts: { buildahOnly: RUN_STUBS },
  // buildah makes a WORKDIR's directory only at the next step that writes a layer,
  // as root; nbox follows Docker (BuildKit): a layer of its own, owned by the USER (§2.4).
  'five-steps': { buildahOnly: RUN_STUBS, config: { layers: [4, 3], emptyLayers: ['101110', '100110'] } },
  metadata: {
    config: { layers: [4, 1], emptyLayers: ['10000011100', '10000000000'] },
    nboxOnly: ['./abs d 755 65534:65534 -', './abs/x d 755 65534:65534 -', './abs/y d 755 65534:65534 -', './rel d 755 65534:65534 -'],
  },
};

const state = { dir: '', output: '' };

// One run of the script over every context: the base image is seeded once.
test.before(async () => {
  state.dir = await mkdtemp(join(tmpdir(), 'nbox-compare-test-'));
  await mkdir(join(state.dir, 'tmp'));
  state.output = await compareAll(join(state.dir, 'out'));
});

test.after.always(async () => {
  if (!state.dir) return;
  // buildah keeps its storage's overlay directory mounted: unmount what lies under our directory, deepest first.
  for (const mountPoint of mountsUnder(state.dir)) execFileSync('umount', [mountPoint]);
  await rm(state.dir, { recursive: true, force: true });
});

test('every context with listed differences is under test/fixtures/compare/', (t) => {
  t.deepEqual(Object.keys(KNOWN).filter((name) => !readdirSync(CONTEXTS).includes(name)), []);
});

for (const name of readdirSync(CONTEXTS).sort()) {
  test(`${name}: nbox and buildah build the same config and file tree, apart from buildah's listed differences`, async (t) => {
    const out = join(state.dir, 'out', name);
    const files = await Promise.all(['nbox.config', 'buildah.config', 'nbox.tree', 'buildah.tree'].map((file) => readFile(join(out, file), 'utf8').catch(() => null)));
    if (files.includes(null)) return t.fail(`the comparison did not finish:\n${state.output}`);
    const [nboxConfig, buildahConfig, nboxTree, buildahTree] = files as string[];
    t.deepEqual(differences(JSON.parse(nboxConfig), JSON.parse(buildahConfig), lines(nboxTree), lines(buildahTree)), {
      config: {},
      nboxOnly: [],
      buildahOnly: [],
      ...KNOWN[name],
    });
  });
}

// compareAll runs scripts/compare-buildah-all with all state in our directory; its output, stdout and stderr.
function compareAll(out: string): Promise<string> {
  const env = { ...process.env, NBOX_ROOT: join(state.dir, 'nbox'), BUILDAH_ROOT: join(state.dir, 'buildah'), TMPDIR: join(state.dir, 'tmp') };
  return new Promise((resolveRun, reject) => {
    const child = spawn(join(REPO, 'scripts/compare-buildah-all'), ['-o', out], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolveRun(output));
  });
}

function lines(tree: string): string[] {
  return tree
    .split('\n')
    .filter(Boolean)
    .map((line) => line.trimEnd());
}

function differences(nbox: Record<string, unknown>, buildah: Record<string, unknown>, nboxTree: string[], buildahTree: string[]): Differences {
  const config: Record<string, [unknown, unknown]> = {};
  for (const key of new Set([...Object.keys(nbox), ...Object.keys(buildah)])) {
    if (JSON.stringify(nbox[key]) !== JSON.stringify(buildah[key])) config[key] = [nbox[key], buildah[key]];
  }
  const inNbox = new Set(nboxTree);
  const inBuildah = new Set(buildahTree);
  return { config, nboxOnly: nboxTree.filter((l) => !inBuildah.has(l)), buildahOnly: buildahTree.filter((l) => !inNbox.has(l)) };
}

// mountsUnder lists this process's mount points below dir, deepest first (mountinfo escapes space, tab, newline and \ in octal).
function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point.startsWith(`${dir}/`));
  return [...new Set(points)].sort().reverse();
}
