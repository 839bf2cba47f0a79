// GNU tar, the one unpacker of tars that come from outside (layers, ADD, build
// contexts): always run the same way, reading the tar on its stdin. It refuses
// `..` members, strips leading `/`, and makes a symlink that points up or out
// only after every other member, so no member is written through it.
//
// Which line of its stderr says why it failed: warnings come first
// (`Removing leading '../' from member names`), then the error, then follow-ons
// and a summary (`Skipping to next header`, `Exiting with failure status due to
// previous errors`): the first line that is none of those is the error.
import { type Duplex, type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isErrno } from '../../errors';
import { startTool } from './tool';

// tar's closing lines, which say only that something failed before.
const SUMMARY = /^tar: (Exiting with failure status due to previous errors|Error is not recoverable: exiting now|Child returned status \d+|Skipping to next header)$/;

// tar's warnings (its WARN and WARNOPT messages met when extracting), which do not fail it.
const WARNING = new RegExp(
  '^tar: (' +
    [
      "Removing leading [`'].*[`'] from (member names|hard link targets)",
      'A lone zero block at \\d+',
      'Ignoring unknown extended header keyword',
      'Record size = \\d+ blocks',
      "Substituting [`']\\.' for empty (member name|hard link target)",
      'Extracting contiguous files as regular files',
      '.*: implausibly old time stamp ',
      '.*: time stamp .* in the future',
      ".*: Unknown file type '.', extracted as normal file",
      '.*: Warning: ',
    ].join('|') +
    ')',
);

/** tarErrorLine picks the line of GNU tar's stderr that says why it exited with status. */
export function tarErrorLine(stderr: string, status: number | null): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => !SUMMARY.test(line) && !WARNING.test(line)) ?? lines.find((line) => !SUMMARY.test(line)) ?? lines[0] ?? `tar exited with status ${status}`;
}


/** TarOutcome says how an unpack ended: well, or what failed first (tar, its input, or starting tar). */
export type TarOutcome = { failed: undefined } | { failed: 'tar'; line: string } | { failed: 'input' | 'spawn'; error: unknown };

/** extractWithGnuTar pipes stages (the uncompressed tar at the end) into GNU tar unpacking into dir with
 * numeric ids (never the host's user names), modes as given and every xattr; owners are kept when run
 * as root. see, if given, gets every chunk, those after the end-of-archive blocks that tar leaves unread too. */
export async function extractWithGnuTar(stages: Array<Readable | Duplex>, dir: string, see?: (chunk: Buffer) => void): Promise<TarOutcome> {
  // Only root can restore owners; an unprivileged unpack (tests, rootless use) keeps the caller's uid.
  const owner = process.getuid?.() === 0 ? ['--same-owner'] : ['--no-same-owner'];
  const args = ['-x', '--numeric-owner', '--same-permissions', ...owner, '--xattrs', '--xattrs-include=*', '-f', '-', '-C', dir];
  const { child: tar, exited, stderr } = startTool('tar', args, 'ignore');

  // tar stops reading at the end-of-archive blocks; the rest still goes to see.
  let tarGone = false;
  tar.stdin.on('error', () => (tarGone = true));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      see?.(chunk);
      if (tarGone) return done();
      tar.stdin.write(chunk, (err) => done(err && !isErrno(err, 'EPIPE') ? err : undefined));
    },
    final(done) {
      tar.stdin.end();
      done();
    },
  });
  // Whichever fails first is reported: tar's complaint, or the input's error
  // (a broken compressed stream, a dropped connection), after which tar is stopped.
  let first: 'tar' | 'input' | undefined;
  const tarFailed = () => {
    first ??= 'tar';
    sink.destroy();
  };
  exited.then((code) => code !== 0 && tarFailed(), tarFailed);
  const piping = pipeline([...stages, sink]).catch((err: unknown) => {
    first ??= 'input';
    tar.kill();
    throw err;
  });
  const [piped, exit] = await Promise.allSettled([piping, exited]);
  if (piped.status === 'rejected' && first === 'input') return { failed: 'input', error: piped.reason };
  if (exit.status === 'rejected') return { failed: 'spawn', error: exit.reason };
  if (exit.value !== 0) return { failed: 'tar', line: tarErrorLine(stderr(), exit.value) };
  return { failed: undefined };
}
