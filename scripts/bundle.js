#!/usr/bin/env node
// Bundles the CLI (src/cli/cli.ts and all it imports but the addon and
// tar-stream) into dist/src/cli/bundle.js, then writes its code cache
// (cli-code-cache.js). Run by `npm run bundle`.
//
// Node's builtins below cost milliseconds each to load (node:crypto 6 ms,
// node:child_process 12 ms here) and most verbs use none of them, yet a bundle
// loads every module's imports as it starts. Each is bundled as a stand-in whose
// exports are getters that load the builtin on first use, so `nbox ps` never
// loads node:https. Getters keep every use exact: `new`, `extends`, `instanceof`
// and constants all reach the builtin's own values.
'use strict';
const { builtinModules } = require('node:module');
const { join } = require('node:path');
const esbuild = require('esbuild');

const LAZY = ['child_process', 'crypto', 'dgram', 'fs/promises', 'http', 'https', 'net', 'readline', 'stream', 'stream/promises', 'string_decoder', 'tls', 'tty', 'zlib'];

/** standIn is the source of a CommonJS module with a getter for each export of builtin `name`. */
function standIn(name) {
  const exportNames = Object.keys(require(`node:${name}`));
  if (name === 'fs/promises') return fsPromisesStandIn(exportNames);
  return [
    `let loaded;`,
    `const load = () => (loaded ??= require(${JSON.stringify(`node:${name}`)}));`,
    `for (const key of ${JSON.stringify(exportNames)}) Object.defineProperty(exports, key, { enumerable: true, get: () => load()[key] });`,
  ].join('\n');
}

// node:fs/promises loads eight more modules (readline's among them, for
// FileHandle.readLines): 1.5 ms of nearly every verb here. Its functions that
// take and give plain values are node:fs's callback ones, promisified: the same
// libuv calls, the same errors. The rest (open's FileHandle, watch) stay the
// module's own, loaded on first use. realpath is the native one, as there.
const VIA_CALLBACKS = [
  'access', 'appendFile', 'chmod', 'chown', 'copyFile', 'cp', 'lchown', 'link', 'lstat', 'lutimes', 'mkdir', 'mkdtemp',
  'readdir', 'readFile', 'readlink', 'realpath', 'rename', 'rm', 'rmdir', 'stat', 'statfs', 'symlink', 'truncate',
  'unlink', 'utimes', 'writeFile',
];

function fsPromisesStandIn(exportNames) {
  if (!VIA_CALLBACKS.every((name) => exportNames.includes(name))) throw new Error('node:fs/promises lacks a function the stand-in gives');
  return [
    `const fs = require('node:fs');`,
    `const { promisify } = require('node:util');`,
    `let loaded;`,
    `const load = () => (loaded ??= require('node:fs/promises'));`,
    `const viaCallbacks = new Set(${JSON.stringify(VIA_CALLBACKS)});`,
    `for (const key of ${JSON.stringify(exportNames)}) {`,
    `  let made;`,
    `  const get = viaCallbacks.has(key) ? () => (made ??= promisify(key === 'realpath' ? fs.realpath.native : fs[key])) : () => load()[key];`,
    `  Object.defineProperty(exports, key, { enumerable: true, get });`,
    `}`,
  ].join('\n');
}

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    const filter = new RegExp(`^(node:)?(${LAZY.map((m) => m.replace('/', '\\/')).join('|')})$`);
    build.onResolve({ filter }, (args) => {
      // The stand-in's own require of the builtin is the real one.
      if (args.namespace === 'lazy-builtin') return { path: args.path, external: true };
      return { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin-esm' };
    });
    // Modules import an ES module that re-exports the CommonJS stand-in: esbuild converts a CommonJS
    // module for each module that imports it (a getter per export: fs/promises, imported by some forty
    // modules, cost most of a millisecond at every start), but an ES module's once.
    build.onResolve({ filter: /^lazy-builtin:/ }, (args) => ({ path: args.path.slice('lazy-builtin:'.length), namespace: 'lazy-builtin' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin-esm' }, (args) => ({ contents: `export * from ${JSON.stringify(`lazy-builtin:${args.path}`)};`, loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ contents: standIn(args.path), loader: 'js' }));
  },
};

if (!LAZY.every((name) => builtinModules.includes(name))) throw new Error('a lazy builtin is not one of this Node\'s');

const out = join(__dirname, '../dist/src/cli/bundle.js');
esbuild
  .build({
    entryPoints: [join(__dirname, '../src/cli/cli.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // A vm.Script (main.ts) has no loader for import(): the bundle's become require.
    supported: { 'dynamic-import': false },
    external: ['*.node', 'tar-stream'],
    plugins: [lazyBuiltins],
    // ASCII (esbuild's default, kept explicit): main.js reads the bundle as latin1, with no UTF-8 decoding.
    charset: 'ascii',
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    sourcemap: true,
    logLevel: 'warning',
    outfile: out,
  })
  .then(() => require('./cli-code-cache.js'))
  .catch(() => process.exit(1));
