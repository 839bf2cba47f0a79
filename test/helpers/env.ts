// Shared setup of integration tests: root guard, a fresh store per test file,
// a small busybox image, and the CLI run as a user would run it.
import test, { type TestFn } from 'ava';
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink, writeFile, copyFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';

import { Nbox } from '../../src/api';

/** CLI is the compiled CLI entry point. */
export const CLI = resolve(__dirname, '../../src/cli/main.js');

/** BUSYBOX is Debian's busybox-static, the one binary of the test image. */
export const BUSYBOX = '/bin/busybox';

/** skipReason says why integration tests cannot run here, or null when they can. */
function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'they need root';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} missing (apt-get install busybox-static)`;
  return null;
}

/** rootTest is ava's serial test (tests of a file share one store) when
 * running as root with busybox-static installed, else test.skip with the reason logged. */
export function rootTest(): TestFn {
  const reason = skipReason();
  if (reason) {
    console.log(`skipping integration tests: ${reason}`);
    return test.skip as unknown as TestFn;
  }
  return test.serial as unknown as TestFn;
}

/** optionalTest narrows rootTest's test to when `missing` (what these tests lack, or null) is null.
 * Without root it returns the already skipping test unchanged: ava's test.skip has no .skip. */
export function optionalTest(rooted: TestFn, missing: string | null): TestFn {
  if (skipReason() || missing === null) return rooted;
  console.log(`skipping ${missing}`);
  return test.skip as unknown as TestFn;
}

/** TestStore is a temporary store with the test image imported. */
export interface TestStore {
  root: string;
  nbox: Nbox;
  cleanup(): Promise<void>;
}

/** PASSWD and GROUP of the test image: a user with a supplementary group, and one without a passwd entry's group. */
const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'app:x:1000:1000:app user:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'app:x:1000:', 'staff:x:50:app', 'audio:x:29:root,app', 'nogroup:x:65534:', ''].join('\n');

/** makeRootfs builds the busybox test rootfs in a fresh directory. */
export async function makeRootfs(parent: string): Promise<string> {
  const dir = join(parent, 'rootfs');
  for (const sub of ['bin', 'etc', 'root', 'tmp', 'home/app']) await mkdir(join(dir, sub), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await copyFile(BUSYBOX, join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  await Promise.all(applets.map((applet) => symlink('busybox', join(dir, 'bin', applet))));
  await writeFile(join(dir, 'etc/passwd'), PASSWD);
  await writeFile(join(dir, 'etc/group'), GROUP);
  return dir;
}

/** tarOf streams `tar -c` of entries under dir. A child's stdout that nobody
 * reads yet is discarded when the child exits, so it is piped on at once. */
export function tarOf(dir: string, entries: string[] = ['.']): Readable {
  const out = new PassThrough();
  spawn('tar', ['-C', dir, '-cf', '-', ...entries], { stdio: ['ignore', 'pipe', 'inherit'] }).stdout!.pipe(out);
  return out;
}

/** makeTestStore opens a fresh store and imports the busybox test image as `bb:latest`. */
export async function makeTestStore(): Promise<TestStore> {
  const root = await mkdtemp(join(tmpdir(), 'nbox-test-'));
  const nbox = await Nbox.open({ root: join(root, 'store') });
  const rootfs = await makeRootfs(root);
  await nbox.importImage(tarOf(rootfs), { tags: ['bb:latest'], changes: ['CMD ["sh"]'] });
  return {
    root: join(root, 'store'),
    nbox,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** sharedTestStore gives a test file one fresh store, made before its tests
 * and removed after them even when they fail. */
export function sharedTestStore(test: TestFn): TestStore {
  const holder = {} as TestStore;
  if (skipReason()) return holder;
  test.before(async () => {
    Object.assign(holder, await makeTestStore());
  });
  test.after.always(async () => {
    await holder.cleanup?.();
  });
  return holder;
}

/** Teardown is what test helpers need of a test to clean up after it. */
export interface Teardown {
  teardown(fn: () => Promise<void>): void;
}

/** fileScope is a Teardown that lasts until a file's tests end: for the contexts,
 * servers and images that several of its tests share (built by whichever runs first).
 * After-hooks run in the order they were made: make it before sharedTestStore when
 * its cleanups use the store. */
export function fileScope(test: TestFn): Teardown {
  const cleanups: Array<() => Promise<void>> = [];
  test.after.always(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return { teardown: (fn) => void cleanups.push(fn) };
}

/** writeContext writes files (path → content) into a fresh directory that is removed after the test. */
export async function writeContext(t: Teardown, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-ctx-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/** CliResult is what a CLI run printed and how it ended. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** spawnCli starts `nbox ARGS` against a store, as the installed bin runs it
 * ("node --": Node 20 would otherwise take a later --env-file as its own). */
export function spawnCli(root: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--', CLI, ...args], {
    env: { ...process.env, NBOX_ROOT: root },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...options,
  });
}

/** exitCodeOf resolves with a child's exit code, even if it already exited. */
export function exitCodeOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
}

/** cli runs `nbox ARGS` against a store and collects its output. */
export function cli(root: string, args: string[], options: SpawnOptions & { input?: string } = {}): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawnCli(root, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin?.end(options.input ?? '');
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
}
