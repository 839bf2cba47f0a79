import test from 'ava';
import type { Command } from 'commander';

import { buildProgram, invokedCommand } from '../../../src/cli/program';

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

test('a start builds only the command its argv runs, and every command is found so', (t) => {
  const ctx = { open: () => Promise.reject(STOP) };
  const all = buildProgram(ctx).commands.flatMap((cmd) => [cmd.name(), ...cmd.aliases()]);
  t.true(all.length > 40);
  for (const name of all) {
    const built = buildProgram(ctx, ['node', 'nbox', '--root', '/r', name]).commands;
    t.true(built.some((cmd) => cmd.name() === name || cmd.aliases().includes(name)), name);
    t.true(built.length < 5, `${name} built ${built.length} commands`);
  }
  t.deepEqual(buildProgram(ctx, ['node', 'nbox', '--debug', 'ps', '-a']).commands.map((cmd) => cmd.name()), ['ps']);
  // Help, a program option and an unknown verb (with its suggestion) need them all.
  for (const argv of [[], ['--help'], ['-v'], ['help', 'ps'], ['pss']]) t.is(buildProgram(ctx, ['node', 'nbox', ...argv]).commands.length, buildProgram(ctx).commands.length);
});

test('invokedCommand passes over the program\'s own options to the verb', (t) => {
  t.is(invokedCommand(['node', 'nbox', 'ps']), 'ps');
  t.is(invokedCommand(['node', 'nbox', '--root', '/r', '--debug', 'run', '-d']), 'run');
  t.is(invokedCommand(['node', 'nbox', '--root=/r', 'images']), 'images');
  t.is(invokedCommand(['node', 'nbox', '--version']), undefined);
  t.is(invokedCommand(['node', 'nbox', '--root']), undefined);
  t.is(invokedCommand(['node', 'nbox']), undefined);
});
