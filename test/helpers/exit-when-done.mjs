// Loaded into every ava worker (package.json "ava.require"; ESM, as only ava's
// ESM entry exports registerCompletionHandler). A worker whose tests are done
// but that still holds a handle (a server, a socket, a child) never exits, and
// ava waits for it without end: CI then hangs instead of failing. This names
// what was left open beyond the worker's own pipes, on stderr, and ends it.
import { registerCompletionHandler } from 'ava';
import { createRequire } from 'node:module';

const atStart = process.getActiveResourcesInfo();

registerCompletionHandler(() => {
  const open = process.getActiveResourcesInfo();
  for (const kind of atStart) {
    const at = open.indexOf(kind);
    if (at >= 0) open.splice(at, 1);
  }
  if (open.length > 0) {
    const file = Object.keys(createRequire(import.meta.url).cache).find((path) => path.endsWith('.test.js'));
    process.stderr.write(`${file}: still open when its tests ended: ${open.join(', ')}\n`);
  }
  process.exit();
});
