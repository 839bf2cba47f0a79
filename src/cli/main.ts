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
import { readFileSync, statSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { Script } from 'node:vm';

const BUNDLE = `${__dirname}/bundle.js`;
const CACHE = `${__dirname}/bundle.cache`;

function modified(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
}

// runWithCache runs the bundle as require would, compiled with the code cache. A
// vm.Script has no loader for import(): esbuild turns the bundle's into require.
function runWithCache(): void {
  const script = new Script(wrap(readFileSync(BUNDLE, 'utf8')), { filename: BUNDLE, cachedData: readFileSync(CACHE) });
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
const bundled = modified(BUNDLE);
if (bundled < modified(__filename)) require('./cli');
// Source maps apply to what require loads, not to a vm.Script.
else if (debug || modified(CACHE) < bundled) require('./bundle.js');
else runWithCache();
