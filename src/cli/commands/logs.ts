// `nbox logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER`: the
// container's json-file log, its stdout records to stdout and its stderr
// records to stderr, as `docker logs` prints them.
import type { Command } from 'commander';
import type { Writable } from 'node:stream';

import { parseLogTime, type LogEntry } from '../../api';
import { withExitCode, type CliContext } from '../context';

interface LogsFlags {
  follow?: boolean;
  tail: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
  details?: boolean;
}

/** registerLogs adds `logs`. */
export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description('Fetch the logs of a container')
    .argument('<container>', 'container name or ID')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('--until <time>', 'show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('--details', 'show extra details provided to logs')
    .action(async (ref: string, flags: LogsFlags) => {
      // Docker's client checks the times before it asks anything, and exits 1 for them.
      const times = (() => {
        try {
          return {
            since: flags.since === undefined ? undefined : parseLogTime(flags.since, 'since'),
            until: flags.until === undefined ? undefined : parseLogTime(flags.until, 'until'),
          };
        } catch (err) {
          throw withExitCode(err, 1);
        }
      })();
      // As the daemon: "all", a bad number or a negative one shows everything.
      const tail = /^-?\d+$/.test(flags.tail) && Number(flags.tail) >= 0 ? Number(flags.tail) : undefined;
      const logs = (await ctx.open()).logs(ref, { ...times, tail, follow: flags.follow, timestamps: flags.timestamps });
      // --details adds the log's extra attributes and a space; a json-file log written without log-opts has none.
      const prefix = flags.details ? ' ' : '';
      for await (const batch of logs.batches()) {
        await Promise.all([
          write(process.stdout, render(batch, 'stdout', prefix, flags.timestamps ?? false)),
          write(process.stderr, render(batch, 'stderr', prefix, flags.timestamps ?? false)),
        ]);
      }
    });
}

// render encodes one stream's lines of a batch into one buffer: each line is
// written into it in place, as joining a hundred thousand strings and encoding
// the result costs several times more.
function render(batch: LogEntry[], stream: LogEntry['stream'], prefix: string, timestamps: boolean): Buffer {
  let chars = 0;
  for (const entry of batch) if (entry.stream === stream) chars += entry.line.length + prefix.length + 1;
  // At most three bytes of UTF-8 for each UTF-16 unit.
  const out = Buffer.allocUnsafe(chars * 3);
  let at = 0;
  for (const entry of batch) {
    if (entry.stream !== stream) continue;
    // Docker puts the details before the line and the time before both.
    const line = prefix && timestamps ? entry.line.replace(' ', ` ${prefix}`) : prefix + entry.line;
    at += out.write(line, at, 'utf8');
    if (!entry.partial) out[at++] = 0x0a;
  }
  return out.subarray(0, at);
}

// write waits for a full pipe to drain: a 100 MB log is not held in memory.
function write(stream: Writable, data: Buffer): Promise<void> {
  if (data.length === 0 || stream.write(data)) return Promise.resolve();
  return new Promise((resolve) => stream.once('drain', resolve));
}
