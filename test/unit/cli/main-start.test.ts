import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const MAIN = join(__dirname, '../../../src/cli/main.js');

test('the nbox command starts node without NODE_EXTRA_CA_CERTS: Node 20 would load it, and warn of a bad one, at start', async (t) => {
  // Started as the installed command is, through main.js's shebang.
  const { stdout, stderr } = await promisify(execFile)(MAIN, ['--version'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' } });
  t.regex(stdout, /^nbox version /);
  t.is(stderr, '', 'Node read no certificates file');
});

test('nbox ends as soon as its work is done (process.exit, not Node teardown of the whole heap), keeping its exit code', async (t) => {
  // --trace-exit reports an end by process.exit: Node's own end at an empty loop prints nothing.
  const env = { ...process.env, NODE_OPTIONS: '--trace-exit' };
  const done = await promisify(execFile)(MAIN, ['--version'], { env });
  t.regex(done.stderr, /Exited the environment with code 0/);
  const failed = await promisify(execFile)(MAIN, ['no-such-verb'], { env }).then(() => undefined, (err: { code: number; stderr: string }) => err);
  t.is(failed?.code, 1);
  t.regex(failed?.stderr ?? '', /^nbox: unknown command 'no-such-verb'\n[^]*Exited the environment with code 1/);
});

// Both ways to stdout: commander's help through process.stdout, and a verb's lines (writeOut) straight to fd 1.
for (const args of [['--help'], ['version']]) {
  test(`a reader that goes away before nbox writes ends it quietly with the shell code of SIGPIPE (141): ${args.join(' ')}`, async (t) => {
    const child = spawn(MAIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before node has even started: its first write to stdout fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    t.is(code, 141);
    t.is(stderr, '');
  });
}

test('printed lines arrive whole and in order through a pipe', async (t) => {
  const { stdout } = await promisify(execFile)(MAIN, ['version']);
  t.regex(stdout, /^Client:\n Version: .*\n[^]* Daemon: .*\n$/);
});

// A copy of the command, whose verb caches are its own (help needs nothing but the bundle).
function commandCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-verbcache-'));
  for (const file of ['main.js', 'bundle.js', 'bundle.cache']) copyFileSync(join(dirname(MAIN), file), join(dir, file));
  return dir;
}

// verbCaches are the cache files of verb in a command copy.
function verbCaches(dir: string, verb: string): string[] {
  const caches = join(dir, 'verb-cache');
  return existsSync(caches) ? readdirSync(caches).filter((name) => name.startsWith(`${verb}.`)).map((name) => join(caches, name)) : [];
}

test('a verb\'s first successful run writes its own code cache, root\'s or this user\'s, writable by no one else', async (t) => {
  const dir = commandCopy();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'help']);
  t.regex(first.stdout, /^Usage: nbox/);
  const [file, ...more] = verbCaches(dir, 'help');
  t.deepEqual(more, []);
  const cache = statSync(file);
  t.is(cache.mode & 0o777, 0o644);
  t.true(cache.size > 100_000);
  // A failed run writes none.
  await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'inspect']).catch(() => undefined);
  t.deepEqual(verbCaches(dir, 'inspect'), []);
});

test('a new bundle never meets an earlier bundle\'s verb cache: another file is written, and every verb\'s old one goes', async (t) => {
  const dir = commandCopy();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'help']);
  await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'version']);
  const [old] = verbCaches(dir, 'help');
  t.is(verbCaches(dir, 'version').length, 1);
  // The same text as a new file, as an install writes it (V8 would take the old cache: it checks the length),
  // and older than that cache, as a package's fixed file times make it.
  const bundle = join(dir, 'bundle.js');
  writeFileSync(`${bundle}.new`, readFileSync(bundle));
  renameSync(`${bundle}.new`, bundle);
  const before = Math.floor(statSync(old).mtimeMs / 1000) - 60;
  for (const file of ['main.js', 'bundle.js', 'bundle.cache']) utimesSync(join(dir, file), before, before);
  t.regex((await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'help'])).stdout, /^Usage: nbox/);
  const [now, ...more] = verbCaches(dir, 'help');
  t.deepEqual(more, []);
  t.not(now, old);
  t.deepEqual(verbCaches(dir, 'version'), [], 'the other verb\'s cache of the old bundle went too');
});

test('a verb cache others may write is not run but replaced; one V8 refuses is replaced too', async (t) => {
  const dir = commandCopy();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'help']);
  const [cache] = verbCaches(dir, 'help');
  // A valid cache, but group- and world-writable: V8 would take it, so only the check keeps it out.
  chmodSync(cache, 0o666);
  const again = await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'help']);
  t.regex(again.stdout, /^Usage: nbox/);
  t.is(statSync(cache).mode & 0o777, 0o644);
  writeFileSync(cache, 'not a code cache');
  const refused = await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'help']);
  t.regex(refused.stdout, /^Usage: nbox/);
  t.true(statSync(cache).size > 100_000);
});

test('where no verb cache can be kept (no directory for it), a verb runs on bundle.cache and writes nothing', async (t) => {
  const dir = commandCopy();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'verb-cache'), '');
  for (let run = 0; run < 2; run++) {
    const r = await promisify(execFile)(process.execPath, [join(dir, 'main.js'), 'help']);
    t.regex(r.stdout, /^Usage: nbox/);
    t.is(r.stderr, '');
  }
  t.deepEqual(readdirSync(dir).sort(), ['bundle.cache', 'bundle.js', 'main.js', 'verb-cache']);
});
