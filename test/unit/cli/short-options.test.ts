import test from 'ava';
import type { Command } from 'commander';

import { buildProgram } from '../../../src/cli/program';

const STOP = new Error('stop before the store');

/** parse runs args through the real program up to the point a verb opens the store
 * and returns the verb's parsed options and arguments. */
async function parse(args: string[]): Promise<{ opts: Record<string, unknown>; args: string[] }> {
  const program = buildProgram({ open: () => Promise.reject(STOP) });
  let seen: Command | undefined;
  program.hook('preAction', (_root, verb) => { seen = verb; });
  await program.parseAsync(['node', 'nbox', ...args]).catch((err: unknown) => {
    if (err !== STOP) throw err;
  });
  return { opts: seen!.opts(), args: seen!.args };
}

test('-x=value is -x value for every verb, as in Docker', async (t) => {
  t.deepEqual((await parse(['build', '-t=name', '-t=other:1', '-f=Dockerfile.x', '.'])).opts.tag, ['name', 'other:1']);
  t.is((await parse(['build', '-f=Dockerfile.x', '.'])).opts.file, 'Dockerfile.x');
  const run = await parse(['run', '-e=A=1', '-u=app', '-w=/tmp', 'bb', 'true']);
  t.deepEqual(run.opts.env, ['A=1']);
  t.is(run.opts.user, 'app');
  t.is(run.opts.workdir, '/tmp');
  t.is((await parse(['save', '-o=out.tar', 'bb'])).opts.output, 'out.tar');
  t.is((await parse(['load', '-i=in.tar'])).opts.input, 'in.tar');
  t.deepEqual((await parse(['import', '-c=CMD ["sh"]', '-m=msg', 'in.tar'])).opts.change, ['CMD ["sh"]']);
});

test('a group of short flags may end with -x=value', async (t) => {
  const run = await parse(['run', '-ie=A=1', 'bb', 'true']);
  t.true(run.opts.interactive);
  t.deepEqual(run.opts.env, ['A=1']);
});

test('-x =value, --long==value and a container\'s own arguments keep their "="', async (t) => {
  t.deepEqual((await parse(['build', '-t', '=name', '.'])).opts.tag, ['=name']);
  t.deepEqual((await parse(['build', '--tag==name', '.'])).opts.tag, ['=name']);
  const run = await parse(['run', '-e=A=1', 'bb', 'grep', '-e=x', '-w=y']);
  t.deepEqual(run.opts.env, ['A=1']);
  t.deepEqual(run.args, ['bb', 'grep', '-e=x', '-w=y']);
  t.is(run.opts.workdir, undefined);
});

test('--flag=true|false of a boolean reads as Docker reads it; a container argument is left alone', async (t) => {
  t.is((await parse(['commit', 'c'])).opts.pause, true);
  t.is((await parse(['commit', '--pause=false', 'c'])).opts.pause, false);
  t.is((await parse(['commit', '--pause=true', 'c'])).opts.pause, true);
  t.deepEqual((await parse(['commit', '--pause', 'c', 'repo'])).args, ['c', 'repo']);
  t.deepEqual((await parse(['run', 'bb', 'x', '--pause=false'])).args, ['bb', 'x', '--pause=false']);
});
