// Bad input: one line naming what was wrong, a non-zero exit, the store untouched.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { CLI, cli, rootTest, sharedTestStore, type CliResult } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

/** snapshot lists every path in the store with its size, temp entries and the cache aside (derived,
 * content-addressed data, such as a compiled seccomp program, which any run may add). */
async function snapshot(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    if (rel === 'tmp' || rel === 'cache') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(`${rel}/`, ...(await snapshot(full, rel)));
    else out.push(`${rel} ${(await stat(full)).size}`);
  }
  return out.sort();
}

async function failsCleanly(t: ExecutionContext, args: string[], code: number, message: RegExp): Promise<CliResult> {
  const before = await snapshot(store.root);
  const r = await cli(store.root, args);
  t.is(r.code, code, r.stderr);
  t.regex(r.stderr, message);
  t.is(r.stderr.trim().split('\n').length, 1, `more than one line: ${r.stderr}`);
  t.false(r.stderr.includes('    at '), 'stack trace printed without --debug');
  t.deepEqual(await snapshot(store.root), before);
  return r;
}

test('an unknown image', async (t) => {
  await failsCleanly(t, ['run', '--rm', 'nosuch', 'true'], 125, /^nbox: No such image: nosuch/);
});

test('an unknown user', async (t) => {
  await failsCleanly(t, ['run', '--rm', '-u', 'ghost', 'bb', 'true'], 125, /unable to find user ghost/);
});

test('an unknown group', async (t) => {
  await failsCleanly(t, ['run', '--rm', '-u', 'app:ghosts', 'bb', 'true'], 125, /unable to find group ghosts/);
});

test('a missing executable leaves no container behind with --rm', async (t) => {
  await failsCleanly(t, ['run', '--rm', 'bb', 'nope'], 127, /executable file not found/);
});

test('a bad flag', async (t) => {
  await failsCleanly(t, ['run', '--bogus', 'bb'], 125, /^nbox: unknown option '--bogus'/);
});

test('an unknown verb exits 1, as the docker CLI', async (t) => {
  await failsCleanly(t, ['frobnicate'], 1, /^nbox: unknown command 'frobnicate'/);
});

test('a missing env file', async (t) => {
  await failsCleanly(t, ['run', '--rm', '--env-file', '/nonexistent/env', 'bb', 'true'], 125, /\/nonexistent\/env/);
});

test('an unknown network mode', async (t) => {
  await failsCleanly(t, ['run', '--rm', '--network', 'bridge0', 'bb', 'true'], 125, /network bridge0 not found/);
});

test('a --tmpfs that is relative or / is refused before a container is made, by run and by create', async (t) => {
  for (const verb of ['run', 'create']) {
    await failsCleanly(t, [verb, '--tmpfs', 'relative', 'bb', 'true'], 125, /^nbox: invalid mount path: 'relative' mount path must be absolute$/m);
    await failsCleanly(t, [verb, '--tmpfs', '/', 'bb', 'true'], 125, /^nbox: invalid mount path: '\/' mount path must not be "\/"$/m);
  }
});

test('save -o into a directory that is not there: the docker CLI\'s message, not a temp name of nbox\'s', async (t) => {
  await failsCleanly(t, ['save', '-o', '/nonexistent/dir/x.tar', 'bb'], 1, /^nbox: invalid output path: directory "\/nonexistent\/dir" does not exist$/m);
});

test('an invalid container name', async (t) => {
  await failsCleanly(t, ['run', '--rm', '--name', '-bad name', 'bb', 'true'], 125, /Invalid container name/);
});

// The checkout may sit where uid 65534 cannot enter (/root, a mktemp -d): the CLI
// then could not even be loaded. So the caller runs a world-readable copy of what the
// CLI loads: the compiled sources, the addon and the runtime npm packages.
async function worldReadableCli(): Promise<{ cli: string; cleanup(): Promise<void> }> {
  const checkout = resolve(dirname(CLI), '../../..');
  const copy = await mkdtemp(join(tmpdir(), 'nbox-cli-copy-'));
  const lock = JSON.parse(await readFile(join(checkout, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const runtimePackages = Object.entries(lock.packages).filter(([dir, info]) => dir.startsWith('node_modules/') && !info.dev).map(([dir]) => dir);
  for (const part of ['package.json', 'dist/src', 'build/Release/nbox.node', 'build/Release/nbox-exec', ...runtimePackages]) {
    await cp(join(checkout, part), join(copy, part), { recursive: true });
  }
  execFileSync('chmod', ['-R', 'go+rX', copy]);
  return { cli: join(copy, 'dist/src/cli/main.js'), cleanup: () => rm(copy, { recursive: true, force: true }) };
}

test('a non-root caller', async (t) => {
  const before = await snapshot(store.root);
  const copy = await worldReadableCli();
  t.teardown(copy.cleanup);
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--', copy.cli, 'images'], {
    env: { ...process.env, NBOX_ROOT: store.root },
    encoding: 'utf8',
  });
  t.is(r.stderr, 'nbox: nbox needs root to create namespaces and mounts (try sudo)\n');
  t.is(r.status, 125);
  t.deepEqual(await snapshot(store.root), before);
});

test('a corrupt store file', async (t) => {
  const index = join(store.root, 'images', 'repositories.json');
  const good = await readFile(index);
  t.teardown(() => writeFile(index, good));
  await writeFile(index, '{ not json');
  await failsCleanly(t, ['images'], 1, /^nbox: corrupt store file .*repositories\.json/);
});

test('a failed operation exits 1, as in Docker', async (t) => {
  await failsCleanly(t, ['tag', 'nosuch', 'other'], 1, /^nbox: No such image: nosuch$/m);
  await failsCleanly(t, ['history', 'nosuch'], 1, /^nbox: No such image: nosuch$/m);
  await failsCleanly(t, ['export', 'nosuch'], 1, /^nbox: No such container: nosuch$/m);
  await failsCleanly(t, ['save', 'nosuch'], 1, /^nbox: .*nosuch/);
  await failsCleanly(t, ['import', '/nonexistent/rootfs.tar'], 1, /^nbox: open \/nonexistent\/rootfs\.tar: no such file or directory$/m);
  await failsCleanly(t, ['load', '-i', '/nonexistent/images.tar'], 1, /^nbox: open \/nonexistent\/images\.tar: no such file or directory$/m);
  await failsCleanly(t, ['pull', '127.0.0.1:1/no/such:v1'], 1, /^nbox: /);
});

test('inspect of a missing object prints [] and then the error, exit 1', async (t) => {
  const r = await failsCleanly(t, ['inspect', 'nosuch'], 1, /^nbox: No such object: nosuch$/m);
  t.is(r.stdout, '[]\n');
});

test('a flag that cannot be parsed exits 125, a missing or extra argument 1, as the docker CLI', async (t) => {
  await failsCleanly(t, ['images', '--bogus'], 125, /^nbox: unknown option '--bogus'/);
  await failsCleanly(t, ['images', '--format'], 125, /^nbox: option '--format <format>' argument missing/);
  await failsCleanly(t, ['inspect', '--type', 'volume', 'bb'], 125, /not a valid value for --type/);
  for (const args of [['tag', 'bb'], ['run'], ['create'], ['exec', 'c'], ['rm']]) {
    await failsCleanly(t, args, 1, /^nbox: missing required argument/);
  }
  await failsCleanly(t, ['tag', 'a', 'b', 'c'], 1, /^nbox: too many arguments/);
  // A reference's format is the command's check, not a flag's: 1 (but 125 for run and create, as everything there).
  await failsCleanly(t, ['tag', 'bb', 'BAD'], 1, /^nbox: invalid reference format: BAD$/m);
  await failsCleanly(t, ['pull', 'BAD REF'], 1, /^nbox: invalid reference format: BAD REF$/m);
  await failsCleanly(t, ['run', 'BAD'], 125, /^nbox: invalid reference format: BAD$/m);
});

test('--debug shows the cause chain', async (t) => {
  const r = await cli(store.root, ['--debug', 'run', '--rm', 'nosuch']);
  t.is(r.code, 125);
  t.regex(r.stderr, /No such image/);
  t.regex(r.stderr, /\n\s+at /);
});
