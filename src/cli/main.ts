#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS NBOX_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --
// The shebang ends node's own options with "--": Node 20 otherwise reads
// --env-file anywhere in argv, loading the container's env file into nbox.
// It also starts node without NODE_EXTRA_CA_CERTS: Node 20 then loads that file
// and every root certificate it has at start, 40 ms of each nbox command here.
// The name is kept in NBOX_EXTRA_CA_CERTS, put back below for the registry
// client (registry/http.ts) and for what nbox starts.
// The nbox command. `npm run build` bundles the CLI (cli.ts and all it imports
// but the addon and tar-stream) into bundle.js, and writes bundle.cache, V8's
// code for it once it built its program: one file to read and little to compile,
// instead of some fifty files to find, read and compile. A bundle older than
// this file predates the last tsc run, so then the modules tsc wrote load.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { Script } from 'node:vm';

const BUNDLE = `${__dirname}/bundle.js`;
const CACHE = `${__dirname}/bundle.cache`;
// Each verb's own code cache, written once by its first successful run: V8's code for what that verb
// ran (a run -d compiles some 80 kB of functions that `--help`, which bundle.cache is made from, never
// calls). 5 ms of every later run -d here; Node 22's compile cache does the same for modules.
const VERB_CACHES = `${__dirname}/verb-cache`;

function modified(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
}

// verbCache is the cache file of the verb argv names first (no option before it), if any, for this very
// bundle file. V8 checks a cache against its source's length alone, so a cache must never meet another
// bundle: the name holds the bundle's inode, size and time, which a rebuild or a new install changes.
function verbCache(argv: string[], bundle: Stats): string | undefined {
  const verb = argv[2];
  if (verb === undefined || !/^[a-z][a-z-]{0,31}$/.test(verb)) return undefined;
  return `${VERB_CACHES}/${verb}.${bundle.ino}-${bundle.size}-${Math.trunc(bundle.mtimeMs)}.cache`;
}

// trustedCache reads a verb's cache if this user or root made it and no other may write it: a code cache is
// code this process runs.
function trustedCache(file: string): Buffer | undefined {
  try {
    const stats = statSync(file);
    if ((stats.uid !== 0 && stats.uid !== process.geteuid?.()) || (stats.mode & 0o022) !== 0) return undefined;
    return readFileSync(file);
  } catch {
    // None yet, or no directory for them: bundle.cache serves.
    return undefined;
  }
}

// writeVerbCache keeps the code V8 compiled in this run for the verb's later runs: written whole or not at
// all. Every cache of an earlier bundle goes, whatever its verb: none can serve again (some 500 kB each).
function writeVerbCache(script: Script, file: string): void {
  const temp = `${file}.${process.pid}`;
  try {
    mkdirSync(VERB_CACHES, { recursive: true, mode: 0o755 });
    // Opened before the cache is made (tens of ms), so that a place nbox cannot write costs nothing more;
    // wx: never through a name someone placed there first.
    const fd = openSync(temp, 'wx', 0o644);
    try {
      writeSync(fd, script.createCachedData());
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    // VERB.KEY.cache: KEY names the bundle.
    const bundleKey = file.slice(file.indexOf('.', VERB_CACHES.length + 1));
    for (const name of readdirSync(VERB_CACHES)) {
      if (name.endsWith('.cache') && !name.endsWith(bundleKey)) rmSync(`${VERB_CACHES}/${name}`, { force: true });
    }
  } catch {
    // A read-only install keeps bundle.cache alone.
  }
}

// runWithCache runs the bundle as require would, compiled with the verb's code cache, else bundle.cache;
// a verb without a cache of its own (or one V8 refused) writes one as it ends, when it succeeded. A
// vm.Script has no loader for import(): esbuild turns the bundle's into require.
function runWithCache(bundle: Stats): void {
  const own = verbCache(process.argv, bundle);
  const ownCache = own === undefined ? undefined : trustedCache(own);
  // esbuild writes ASCII alone: read as latin1, the text needs no UTF-8 decoding.
  const script = new Script(wrap(readFileSync(BUNDLE, 'latin1')), { filename: BUNDLE, cachedData: ownCache ?? readFileSync(CACHE) });
  // Before the bundle's own exit listeners, the last of which ends the process.
  if (own !== undefined && (ownCache === undefined || script.cachedDataRejected)) {
    process.once('exit', (code) => code === 0 && writeVerbCache(script, own));
  }
  const loaded = { exports: {} };
  script.runInThisContext()(loaded.exports, createRequire(BUNDLE), loaded, BUNDLE, __dirname);
}

const extraCertificates = process.env.NBOX_EXTRA_CA_CERTS;
if (extraCertificates !== undefined) {
  delete process.env.NBOX_EXTRA_CA_CERTS;
  if (extraCertificates !== '') process.env.NODE_EXTRA_CA_CERTS = extraCertificates;
}

// --debug prints stack traces: with source maps on, they name the TypeScript sources.
const debug = process.argv.includes('--debug');
if (debug) process.setSourceMapsEnabled(true);
const bundle = statSync(BUNDLE, { throwIfNoEntry: false });
const bundled = bundle?.mtimeMs ?? -1;
if (!bundle || bundled < modified(__filename)) require('./cli');
// Source maps apply to what require loads, not to a vm.Script.
else if (debug || modified(CACHE) < bundled) require('./bundle.js');
else runWithCache(bundle);
