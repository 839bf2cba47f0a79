// nbox-exec on its own: built with no C library (native/exec-helper.c), it
// still finds commands as execvp does and reports a failed exec on its error
// fd as the container child does (struct child_error: step, errno, index, call).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const HELPER = resolve(__dirname, '../../../../build/Release/nbox-exec');
const ERRNO = { ENOENT: 2, EACCES: 13 };

// run starts the helper with fd 3 on a file, and returns its exit, output and what it wrote on fd 3.
function run(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; report: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-exec-'));
  try {
    const report = join(dir, 'report');
    const fd = openSync(report, 'w');
    try {
      const r = spawnSync(HELPER, ['3', ...args], { env, stdio: ['ignore', 'pipe', 'inherit', fd], encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, report: readFileSync(report) };
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('nbox-exec is a few kilobytes, the copy each detached container keeps in its sealed memfd', (t) => {
  t.true(statSync(HELPER).size < 32 * 1024, `${statSync(HELPER).size} bytes`);
});

test('nbox-exec runs the command through PATH, skipping entries without it, and writes nothing on its error fd', (t) => {
  const r = run(['sh', '-c', 'echo "$0 ran"'], { PATH: '/nonexistent:/bin:/usr/bin' });
  t.is(r.status, 0);
  t.is(r.stdout, 'sh ran\n');
  t.is(r.report.length, 0);
});

test('nbox-exec reports a command it cannot run on its error fd, with execvp\'s errno, and exits 127', (t) => {
  for (const [args, errno] of [[['no-such-command'], ERRNO.ENOENT], [['/etc/passwd'], ERRNO.EACCES]] as const) {
    const r = run([...args]);
    t.is(r.status, 127);
    t.is(r.report.length, 32);
    t.is(r.report.readInt32LE(4), errno, args[0]);
    t.is(r.report.readInt32LE(8), -1);
    t.is(r.report.subarray(12, 18).toString(), 'execve');
  }
});

test('nbox-exec refuses a bad error fd argument with 127 and runs nothing', (t) => {
  const r = spawnSync(HELPER, ['x', 'sh', '-c', 'echo ran'], { encoding: 'utf8' });
  t.is(r.status, 127);
  t.is(r.stdout, '');
});
