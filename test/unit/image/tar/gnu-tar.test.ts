import test from 'ava';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { unpackLayer } from '../../../../src/image/tar/unpack';
import { tarErrorLine } from '../../../../src/image/tar/gnu-tar';
import { tempDir, tarStream } from '../helpers';

test('the error line is the first that is neither a warning nor a summary', (t) => {
  const cases: Array<[string, string]> = [
    [
      "tar: Removing leading `../' from member names\ntar: Removing leading `../' from member names\ntar: ../e: Member name contains '..'\ntar: a/b: Cannot open: Not a directory\ntar: Exiting with failure status due to previous errors\n",
      "tar: ../e: Member name contains '..'",
    ],
    ['tar: This does not look like a tar archive\ntar: Skipping to next header\ntar: Exiting with failure status due to previous errors\n', 'tar: This does not look like a tar archive'],
    ['tar: A lone zero block at 12\ntar: Unexpected EOF in archive\ntar: Unexpected EOF in archive\ntar: Error is not recoverable: exiting now\n', 'tar: Unexpected EOF in archive'],
    ["tar: ./f: Warning: Cannot setxattr: Operation not supported\ntar: ./g: Cannot change ownership to uid 7, gid 7: Operation not permitted\n", 'tar: ./g: Cannot change ownership to uid 7, gid 7: Operation not permitted'],
    ['tar: x: time stamp 2099-01-01 00:00:00 is 2300000000 s in the future\ntar: y: Cannot mknod: Operation not permitted\n', 'tar: y: Cannot mknod: Operation not permitted'],
    ["tar: Removing leading `/' from member names\ntar: Exiting with failure status due to previous errors\n", "tar: Removing leading `/' from member names"],
    ['tar: Exiting with failure status due to previous errors\n', 'tar: Exiting with failure status due to previous errors'],
  ];
  for (const [stderr, line] of cases) t.is(tarErrorLine(stderr, 2), line, stderr);
  t.is(tarErrorLine('\n', 2), 'tar exited with status 2');
});

test('a layer tar that GNU tar fails on after a warning reports the error, not the warning', async (t) => {
  const dir = await tempDir(t);
  // `a` is a file, then `a/b` needs it to be a directory; `../e` draws the warning first.
  await fs.mkdir(path.join(dir, 'one'));
  await fs.writeFile(path.join(dir, 'one', 'e'), 'e');
  await fs.writeFile(path.join(dir, 'one', 'a'), 'a');
  await fs.mkdir(path.join(dir, 'two', 'a'), { recursive: true });
  await fs.writeFile(path.join(dir, 'two', 'a', 'b'), 'b');
  execFileSync('tar', ['-C', path.join(dir, 'one'), '-cf', path.join(dir, 'one.tar'), '--transform', 's,^e,../e,', 'e', 'a']);
  execFileSync('tar', ['-C', path.join(dir, 'two'), '-cf', path.join(dir, 'two.tar'), 'a/b']);
  const one = await fs.readFile(path.join(dir, 'one.tar'));
  // One archive: the first's members without its end-of-archive blocks, then the second.
  await fs.writeFile(path.join(dir, 'both.tar'), Buffer.concat([one.subarray(0, 4 * 512), await fs.readFile(path.join(dir, 'two.tar'))]));
  await fs.mkdir(path.join(dir, 'out'));
  const err = await t.throwsAsync(unpackLayer(tarStream(path.join(dir, 'both.tar')), path.join(dir, 'out')), { code: 'ERR_NBOX_IMPORT' } as object);
  t.regex(err!.message, /^tar: (\.\.\/e: Member name contains '\.\.'|a\/b: Cannot open: Not a directory)$/);
});
