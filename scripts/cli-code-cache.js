#!/usr/bin/env node
// Writes dist/src/cli/bundle.cache, V8's code cache of the CLI bundle once it
// has built its program (as `nbox --help`), which main.js hands to V8 so a
// start compiles little. Run by `npm run bundle` after esbuild; V8 refuses a
// cache made by another V8 or for another source, and then compiles as usual.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const dir = join(__dirname, '../dist/src/cli');
const bundle = join(dir, 'bundle.js');
const script = new Script(wrap(readFileSync(bundle, 'utf8')), { filename: bundle });
process.argv = [process.argv[0], join(dir, 'main.js'), '--help'];
process.stdout.write = () => true; // the help text itself is not wanted
process.on('exit', () => writeFileSync(join(dir, 'bundle.cache'), script.createCachedData()));
const loaded = { exports: {} };
script.runInThisContext()(loaded.exports, createRequire(bundle), loaded, bundle, dir);
