import test from 'ava';

import { SysError } from '../../../src/errors';
import { runProgram, runProgramToOutput } from '../../../src/sys/program';

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

test.serial('runProgram of a program that is not there fails as a SysError (ENOENT) and leaks no fd', async (t) => {
  const { readdirSync } = await import('node:fs');
  const before = readdirSync('/proc/self/fd').length;
  const err = await t.throwsAsync(runProgram('/nonexistent/nft', ['-f', '-'], ''));
  t.true(err instanceof SysError);
  t.is((err as SysError).errnoName, 'ENOENT');
  t.is(readdirSync('/proc/self/fd').length, before);
});

test('runProgramToOutput resolves at the first output while the program runs on, and reaps it when it ends', async (t) => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/nbox-program-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = await runProgramToOutput('/bin/sh', ['-c', `read line; echo $$ > ${dir}/pid; echo "$line"; exec sleep 0.5`], 'committed\n');
  t.deepEqual(result, { exitCode: 0, signal: null, stderr: '', output: true });
  const pid = Number(readFileSync(`${dir}/pid`, 'utf8'));
  const state = () => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
    } catch {
      return 'gone';
    }
  };
  t.false(['gone', 'Z'].includes(state()), 'it runs on after its output');
  await new Promise((resolve) => setTimeout(resolve, 900));
  t.is(state(), 'gone', 'reaped, not left a zombie');
});

test('runProgramToOutput of a program that writes nothing waits for its exit: its code and stderr', async (t) => {
  const result = await runProgramToOutput('/bin/sh', ['-c', 'echo "no good" >&2; exit 3'], '');
  t.deepEqual(result, { exitCode: 3, signal: null, stderr: 'no good\n', output: false });
});
