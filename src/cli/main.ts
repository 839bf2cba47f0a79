#!/usr/bin/env -S node --
// The shebang ends node's own options with "--": Node 20 otherwise reads
// --env-file anywhere in argv, loading the container's env file into nbox.
// The nbox command. `npm run build` bundles the CLI (cli.ts and all it imports
// but the addon and tar-stream) into bundle.js: one file to read and compile
// instead of some fifty is a tenth of `run`'s CPU time. A bundle older than
// this file predates the last tsc run, so then the modules tsc wrote load.
import { statSync } from 'node:fs';

// --debug prints stack traces: through the source maps, they name the TypeScript sources.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const bundle = statSync(`${__dirname}/bundle.js`, { throwIfNoEntry: false });
if (bundle && bundle.mtimeMs >= statSync(__filename).mtimeMs) require('./bundle.js');
else require('./cli');
