import test from 'ava';

import { SysError } from '../../../src/errors';
import { runProgram } from '../../../src/sys/program';

test('runProgram feeds its input to the program and gives back its exit code and stderr', async (t) => {
  const result = await runProgram('/bin/sh', ['-c', 'read line; echo "got $line" >&2; exit 3'], 'hello\n');
  t.deepEqual(result, { exitCode: 3, signal: null, stderr: 'got hello\n' });
});

test('runProgram: input larger than a pipe holds reaches the program whole', async (t) => {
  const input = 'x'.repeat(1 << 20);
  const result = await runProgram('/bin/sh', ['-c', 'wc -c >&2'], input);
  t.is(result.stderr.trim(), String(1 << 20));
});

test('runProgram gives the program no env and no fd of nbox but 0 to 2, even one not close-on-exec', async (t) => {
  const result = await runProgram('/bin/sh', ['-c', 'env >&2; ls /proc/self/fd >&2'], '');
  const lines = result.stderr.trim().split('\n');
  t.false(lines.some((line) => line.startsWith('HOME=')), 'no env');
  t.deepEqual(lines.filter((line) => /^\d+$/.test(line)).map(Number).filter((fd) => fd > 3), [], 'only 0-2 and ls\'s own');
});

test('runProgram of a program that is not there fails as a SysError (ENOENT) and leaks no fd', async (t) => {
  const { readdirSync } = await import('node:fs');
  const before = readdirSync('/proc/self/fd').length;
  const err = await t.throwsAsync(runProgram('/nonexistent/nft', ['-f', '-'], ''));
  t.true(err instanceof SysError);
  t.is((err as SysError).errnoName, 'ENOENT');
  t.is(readdirSync('/proc/self/fd').length, before);
});
