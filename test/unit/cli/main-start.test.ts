import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const MAIN = join(__dirname, '../../../src/cli/main.js');

test('the nbox command starts node without NODE_EXTRA_CA_CERTS: Node 20 would load it, and warn of a bad one, at start', async (t) => {
  // Started as the installed command is, through main.js's shebang.
  const { stdout, stderr } = await promisify(execFile)(MAIN, ['--version'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' } });
  t.regex(stdout, /^nbox version /);
  t.is(stderr, '', 'Node read no certificates file');
});
