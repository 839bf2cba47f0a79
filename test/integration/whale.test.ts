// The main job end to end: debian:bookworm seeded by debootstrap, the
// docker-whale Dockerfile built with apt-get over the host network, and run.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

import { cli, rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);
const SCRIPTS = resolve(__dirname, '../../../scripts');

test('docker-whale builds from debian:bookworm and a cow says a fortune', async (t) => {
  await promisify(execFile)(`${SCRIPTS}/seed-images.sh`, ['debian'], { env: { ...process.env, NBOX_ROOT: store.root } });
  const built = await cli(store.root, ['build', '-q', '-t', 'docker-whale', `${SCRIPTS}/docker-whale`]);
  t.is(built.code, 0, built.stderr);
  t.regex(built.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const run = await cli(store.root, ['run', '--rm', 'docker-whale']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /\(oo\)\\_______/);
  t.regex(run.stdout, /^ _+\n[/<|]/);
});
