// `nbox run --env-file F`: F is for the container. Node 20 also reads an
// --env-file among a script's arguments and runs NODE_OPTIONS from it inside
// nbox; the installed command ends node's options first, and `node main.js`
// without that refuses to run a container.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CLI, rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

// envFileCase writes a payload that marks when Node runs it, and an env file whose NODE_OPTIONS requires it.
async function envFileCase(t: ExecutionContext) {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-env-file-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const marker = join(dir, 'marker');
  await writeFile(join(dir, 'payload.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran inside ' + process.argv[1]);\n`);
  const envFile = join(dir, 'app.env');
  await writeFile(envFile, `NODE_OPTIONS=--require ${join(dir, 'payload.js')}\nGREETING=hello\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, NBOX_ROOT: store.root };
  delete env.NODE_OPTIONS;
  const args = ['run', '--rm', '--env-file', envFile, 'bb', 'sh', '-c', 'echo "$GREETING $NODE_OPTIONS"'];
  return { marker, envFile, env, args, expected: `hello --require ${join(dir, 'payload.js')}\n` };
}

test('an env file with NODE_OPTIONS=--require reaches the container only, through the installed command', async (t) => {
  const { marker, env, args, expected } = await envFileCase(t);
  // The installed command: the shebang runs `node --` on main.js.
  t.is(execFileSync(CLI, args, { env, encoding: 'utf8' }), expected);
  t.is(execFileSync(process.execPath, ['--', CLI, ...args], { env, encoding: 'utf8' }), expected);
  t.false(existsSync(marker));
});

test('node main.js without "--", whose Node read the env file, refuses on one line and runs no container', async (t) => {
  const { envFile, env, args } = await envFileCase(t);
  // `node main.js …`: Node has already run F's NODE_OPTIONS before nbox starts (nothing in
  // main.js can stop that); nbox refuses to go on, on one line, and runs no container.
  const containers = await readdir(join(store.root, 'containers'));
  const plain = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
  t.is(plain.status, 125);
  t.is(plain.stdout, '');
  t.is(plain.stderr, `nbox: node itself read the env file ${envFile} (Node 20 takes --env-file from a script's arguments, and runs NODE_OPTIONS found there): start nbox as "nbox ..." or "node -- main.js ..."\n`);
  t.deepEqual(await readdir(join(store.root, 'containers')), containers);
});
