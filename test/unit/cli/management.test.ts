import test from 'ava';
import type { Command } from 'commander';

import { buildProgram } from '../../../src/cli/program';

const STOP = new Error('stop before the store');

// verbOf parses args up to where the verb opens the store: the path of the verb that ran, and its options.
async function verbOf(args: string[]): Promise<{ path: string; opts: Record<string, unknown>; args: string[] }> {
  const program = buildProgram({ open: () => Promise.reject(STOP) });
  let seen: Command | undefined;
  program.hook('preAction', (_root, verb) => { seen = verb; });
  await program.parseAsync(['node', 'nbox', ...args]).catch((err: unknown) => {
    if (err !== STOP) throw err;
  });
  const names: string[] = [];
  for (let cmd: Command | null = seen!; cmd && cmd.parent; cmd = cmd.parent) names.unshift(cmd.name());
  return { path: names.join(' '), opts: seen!.opts(), args: seen!.args };
}

test('container and image groups take the verbs under Docker\'s names and aliases', async (t) => {
  t.is((await verbOf(['container', 'ls', '-a'])).opts.all, true);
  t.is((await verbOf(['container', 'ps', '-q'])).path, 'container ls');
  t.is((await verbOf(['container', 'list'])).path, 'container ls');
  t.is((await verbOf(['container', 'remove', '-f', 'c'])).opts.force, true);
  t.is((await verbOf(['image', 'rm', 'img'])).path, 'image rm');
  t.is((await verbOf(['image', 'rmi', 'img'])).path, 'image rm');
  t.is((await verbOf(['image', 'tag', 'a', 'b'])).path, 'image tag');
  for (const verb of ['create', 'start', 'restart', 'attach', 'logs']) t.is((await verbOf(['container', verb, 'c'])).path, `container ${verb}`);
});

test('container run passes the command\'s own options through, as the top-level run does', async (t) => {
  const run = await verbOf(['container', 'run', '--rm', 'bb', 'ls', '-la', '--rm']);
  t.is(run.opts.rm, true);
  t.deepEqual(run.args, ['bb', 'ls', '-la', '--rm']);
});
