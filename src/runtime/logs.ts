// A reader of Docker's json-file log (`<id>-json.log`): one JSON record a
// line, {"log":"…","stream":"stdout"|"stderr","time":"<RFC3339Nano>"}, as
// moby's json-file driver writes it. It reads in large chunks, decodes each
// chunk once and takes the three fields by position (JSON.parse only for a
// record with escapes, or of another shape), so a 100 MB log streams at disk
// speed; --tail reads backwards from the end and parses only what it shows.
import { isAscii } from 'node:buffer';
import { closeSync, existsSync, fstatSync, openSync, read, readSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

import { isErrno } from '../errors';
import { ChangeSignal } from './change-signal';

export type LogStream = 'stdout' | 'stderr';

/** LogEntry is one line a container wrote: its text (without the newline), the stream and the time of its first record. */
export interface LogEntry {
  stream: LogStream;
  /** RFC 3339 with nanoseconds, as the log records it. */
  time: string;
  line: string;
  /** No newline ends this text: the container's last output on that stream, or a piece of a line longer
   * than 1 MiB, which the stream's next entries continue. */
  partial?: boolean;
}

/** LogOptions are `docker logs`'s flags, as data. */
export interface LogOptions {
  /** Only the last N records of the log (Docker counts records, not joined lines); all by default. */
  tail?: number | 'all';
  /** Only records written at or after since, and at or before until. */
  since?: Date;
  until?: Date;
  /** Keep reading as the log grows, until the container stops. */
  follow?: boolean;
  /** Prefix each line with its time and a space, as `docker logs -t` (9 fractional digits). */
  timestamps?: boolean;
  /** Ends a follow at once (its reader gone): a quiet log would otherwise hold its file until the container stops. */
  signal?: AbortSignal;
}

/** LogSource is the log file and, for follow, whether its container still runs. */
export interface LogSource {
  path: string;
  running(): Promise<boolean>;
  /** How often follow looks at the file when no change is signalled (ms); fs.watch may miss events. */
  pollInterval?: number;
  /** Bytes read at a time (1 MiB); tests make it small to cross chunk boundaries. */
  chunkSize?: number;
}

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const LOG_PREFIX = '{"log":"';
const STREAM_KEY = '","stream":"';
const TIME_KEY = '","time":"';

/** readLogBatches yields the log's entries a chunk at a time (what the CLI writes in one go). */
export async function* readLogBatches(source: LogSource, options: LogOptions = {}): AsyncGenerator<LogEntry[]> {
  const handle = await openLog(source.path);
  if (!handle && !options.follow) return;
  const reader = new RecordReader(options);
  let file = handle;
  const chunk = source.chunkSize ?? CHUNK;
  try {
    const start = file ? await startPoints(file, source.path, options.tail, chunk) : { offset: 0, older: [] };
    let offset = start.offset;
    // The rotated files first, oldest first (max-size, max-file): they are not written any more.
    for (const part of start.older) {
      const older = await openLog(part.path);
      if (!older) continue;
      try {
        yield* readFrom(older, part.offset, reader, chunk);
      } finally {
        await older.close();
      }
      if (reader.pastUntil) return;
    }
    if (!options.follow) {
      yield* readFrom(file!, offset, reader, chunk);
      const last = reader.flush();
      if (last.length) yield last;
      return;
    }
    const changes = new ChangeSignal(dirname(source.path), source.pollInterval ?? 1000);
    const abort = () => changes.wakeNow();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      // Whether it runs is asked after a read, and once it does not, the file is read once more: what it wrote
      // before it stopped is in the file by then. A reader that has what it wanted from the first read (a wait
      // for a line) asks nothing.
      let alive = true;
      for (;;) {
        file ??= await openLog(source.path);
        if (file) {
          yield* readFrom(file, offset, reader, chunk);
          offset = reader.consumed;
          // Rotated meanwhile: the old file was read to its end just now, and the new one is read from its start.
          const renewed = await rotatedTo(file, source.path);
          if (renewed) {
            await file.close();
            file = renewed;
            yield* readFrom(file, 0, reader, chunk);
            offset = reader.consumed;
          } else if ((await file.stat()).size < offset) {
            // Emptied (max-file 1): it is written from its start again.
            offset = 0;
          }
        }
        if (!alive || reader.pastUntil || options.signal?.aborted) break;
        alive = await source.running();
        if (!alive) continue;
        await changes.next();
        if (options.signal?.aborted) break;
      }
    } finally {
      options.signal?.removeEventListener('abort', abort);
      changes.close();
    }
    const last = reader.flush();
    if (last.length) yield last;
  } finally {
    await file?.close();
  }
}

/** rotatedPaths are a log's rotated files, oldest first: <log>.N … <log>.1. */
export function rotatedPaths(path: string): string[] {
  const paths: string[] = [];
  for (let index = 1; existsSync(`${path}.${index}`); index++) paths.unshift(`${path}.${index}`);
  return paths;
}

// startPoints is where reading begins: the log's own offset, and the rotated files to read before it (oldest
// first) from where; a tail takes its records from the newest files back.
async function startPoints(file: LogFile, path: string, tail: LogOptions['tail'], chunk: number): Promise<{ offset: number; older: Array<{ path: string; offset: number }> }> {
  const rotated = rotatedPaths(path);
  if (typeof tail !== 'number' || tail < 0) return { offset: 0, older: rotated.map((older) => ({ path: older, offset: 0 })) };
  const own = await tailOffset(file, tail, chunk);
  const older: Array<{ path: string; offset: number }> = [];
  let found = own.found;
  for (const olderPath of rotated.reverse()) {
    if (found >= tail) break;
    const handle = await openLog(olderPath);
    if (!handle) break;
    try {
      const part = await tailOffset(handle, tail - found, chunk);
      older.unshift({ path: olderPath, offset: part.offset });
      found += part.found;
    } finally {
      await handle.close();
    }
  }
  return { offset: own.offset, older };
}

// rotatedTo is the log at path, opened, when it is no longer the file being read (a rotation renamed that one).
async function rotatedTo(file: LogFile, path: string): Promise<LogFile | null> {
  const current = statSync(path, { throwIfNoEntry: false });
  if (!current || current.ino === (await file.stat()).ino) return null;
  return openLog(path);
}

/** readLog is readLogBatches one entry at a time. */
export async function* readLog(source: LogSource, options: LogOptions = {}): AsyncGenerator<LogEntry> {
  for await (const batch of readLogBatches(source, options)) yield* batch;
}

// Reads of at most this many bytes are made at once: a log's new lines are mostly a few bytes, which a
// thread-pool trip (four for fs/promises' open, read, read and close) makes milliseconds of when the
// pool is busy. A larger read, perhaps from disk, goes to the pool and leaves the event loop free.
const READ_AT_ONCE = 64 << 10;

// LogFile is an open log: opened, stat'ed and closed at once (metadata, in the cache), read as READ_AT_ONCE says.
class LogFile {
  constructor(private readonly fd: number) {}

  stat(): Promise<Stats> {
    return Promise.resolve(fstatSync(this.fd));
  }

  /** read fills buffer[offset, offset+length) from position: the bytes read, 0 at the end. */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const left = fstatSync(this.fd).size - position;
    if (left <= READ_AT_ONCE) return Promise.resolve({ bytesRead: left <= 0 ? 0 : readSync(this.fd, buffer, offset, Math.min(length, left), position) });
    return new Promise((resolve, reject) => {
      read(this.fd, buffer, offset, length, position, (err, bytesRead) => (err ? reject(err) : resolve({ bytesRead })));
    });
  }

  close(): Promise<void> {
    closeSync(this.fd);
    return Promise.resolve();
  }
}

async function openLog(path: string): Promise<LogFile | null> {
  try {
    return new LogFile(openSync(path, 'r'));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}

// readFrom parses whole lines from offset to the end of the file as it is now;
// a last line without its newline is a record still being written, left for
// the next read (reader.consumed stops before it).
async function* readFrom(file: LogFile, offset: number, reader: RecordReader, chunk: number): AsyncGenerator<LogEntry[]> {
  reader.consumed = offset;
  // No bigger than what is there to read: a poll of a short log allocates no chunk.
  let buffer = Buffer.allocUnsafe(Math.max(1, Math.min(chunk, Math.max(4096, (await file.stat()).size - offset))));
  let carried = 0;
  let position = offset;
  for (;;) {
    if (carried === buffer.length) {
      // One record longer than the buffer: grow it.
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, carried);
      buffer = bigger;
    }
    const { bytesRead } = await file.read(buffer, carried, buffer.length - carried, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    const filled = carried + bytesRead;
    const end = buffer.lastIndexOf(NEWLINE, filled - 1) + 1;
    if (end > 0) {
      // A newline byte is never inside a UTF-8 sequence: the text decoded up to one is whole.
      // Most logs are ASCII, which decodes as latin1 many times faster than as UTF-8, to the same text.
      const text = buffer.toString(isAscii(buffer.subarray(0, end)) ? 'latin1' : 'utf8', 0, end);
      const entries = reader.parse(text);
      reader.consumed += end;
      if (entries.length) yield entries;
      if (reader.pastUntil) return;
    }
    buffer.copy(buffer, 0, end, filled);
    carried = filled - end;
  }
}

/** tailOffset is where the last `count` records of the log begin, read backwards from its end, and how many
 * records there are from there (fewer than count when the file holds fewer). */
async function tailOffset(file: LogFile, count: number, chunk: number): Promise<{ offset: number; found: number }> {
  const { size } = await file.stat();
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(chunk, size)));
  // The newline that ends the last whole record counts for none: a line after
  // it is torn (being written) and no record yet; each newline before it
  // starts one record more.
  let seen = -1;
  for (let chunkEnd = size; chunkEnd > 0;) {
    const chunkStart = Math.max(0, chunkEnd - buffer.length);
    const length = chunkEnd - chunkStart;
    await file.read(buffer, 0, length, chunkStart);
    for (let at = length - 1; at >= 0;) {
      const nl = buffer.lastIndexOf(NEWLINE, at);
      if (nl < 0) break;
      if (++seen === count) return { offset: chunkStart + nl + 1, found: count };
      at = nl - 1;
    }
    chunkEnd = chunkStart;
  }
  return { offset: 0, found: seen + 1 };
}

// MAX_JOINED_LINE: the longest line (in UTF-16 units) joined from partial records before a piece of it goes out.
const MAX_JOINED_LINE = 1 << 20;

// RecordReader turns whole lines of the log into entries: the filters, and a
// stream's partial records (a line of more than 16 KiB, split by the writer)
// joined into one entry.
class RecordReader {
  /** Bytes of the file parsed so far (where the next read starts). */
  consumed = 0;
  /** A record after `until` was seen: nothing more is shown. */
  pastUntil = false;
  private readonly pending: Record<LogStream, { time: string; text: string } | null> = { stdout: null, stderr: null };
  private readonly sinceMs: number;
  private readonly untilMs: number;

  constructor(private readonly options: LogOptions) {
    this.sinceMs = options.since?.getTime() ?? -Infinity;
    this.untilMs = options.until?.getTime() ?? Infinity;
  }

  parse(text: string): LogEntry[] {
    const out: LogEntry[] = [];
    const filtered = this.sinceMs !== -Infinity || this.untilMs !== Infinity;
    for (let pos = 0; pos < text.length;) {
      const nl = text.indexOf('\n', pos);
      const record = parseRecord(text, pos, nl);
      pos = nl + 1;
      // A line that is no record (a crash of its writer mid-line, then more lines) is skipped, as Docker's reader does.
      if (!record) continue;
      if (filtered) {
        const ms = Date.parse(record.time);
        if (ms < this.sinceMs) continue;
        if (ms > this.untilMs || (ms === this.untilMs && subMillisecond(record.time))) {
          this.pastUntil = true;
          break;
        }
      }
      const pending = this.pending[record.stream];
      if (!record.complete) {
        const joined = pending ? { time: pending.time, text: pending.text + record.line } : { time: record.time, text: record.line };
        // A line that never ends (a container writing GBs without a newline) goes out in pieces, as Docker's
        // reader gives each partial record: joined whole, it outgrew a string and hid the whole log.
        if (joined.text.length < MAX_JOINED_LINE) this.pending[record.stream] = joined;
        else {
          this.pending[record.stream] = null;
          out.push(this.entry(record.stream, joined.time, joined.text, true));
        }
        continue;
      }
      this.pending[record.stream] = null;
      out.push(this.entry(record.stream, pending?.time ?? record.time, pending ? pending.text + record.line : record.line, false));
    }
    return out;
  }

  /** flush ends the log: a stream's line still waiting for its newline is shown as it is. */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const pending = this.pending[stream];
      if (pending) out.push(this.entry(stream, pending.time, pending.text, true));
      this.pending[stream] = null;
    }
    return out;
  }

  private entry(stream: LogStream, time: string, text: string, partial: boolean): LogEntry {
    const line = this.options.timestamps ? `${fixedNanoTime(time)} ${text}` : text;
    return partial ? { stream, time, line, partial } : { stream, time, line };
  }
}

interface ParsedRecord {
  stream: LogStream;
  time: string;
  line: string;
  /** The record's text ended with a newline (dropped from line). */
  complete: boolean;
}

/** parseRecord reads the record on text[start, end): by position when it has the writer's shape, else by JSON.parse. */
export function parseRecord(text: string, start: number, end: number): ParsedRecord | null {
  const streamAt = text.lastIndexOf(STREAM_KEY, end);
  const timeAt = streamAt + STREAM_KEY.length + 6;
  if (
    streamAt > start
    && text.startsWith(LOG_PREFIX, start)
    && text.startsWith(TIME_KEY, timeAt)
    && text.charCodeAt(end - 1) === 0x7d /* } */
    && text.charCodeAt(end - 2) === 0x22 /* " */
  ) {
    const streamName = text.slice(streamAt + STREAM_KEY.length, timeAt);
    if (streamName === 'stdout' || streamName === 'stderr') {
      const time = text.slice(timeAt + TIME_KEY.length, end - 2);
      if (time.indexOf('"') < 0) return fromEscaped(text.slice(start + LOG_PREFIX.length, streamAt), streamName, time);
    }
  }
  return parseGeneric(text.slice(start, end));
}

// fromEscaped decodes the log field's JSON string body: most lines have no
// escape but their final "\n", so they need no JSON.parse.
function fromEscaped(body: string, stream: LogStream, time: string): ParsedRecord | null {
  // An escaped newline is a final "n" after an odd number of backslashes.
  let slashes = 0;
  if (body.charCodeAt(body.length - 1) === 0x6e /* n */) {
    while (body.charCodeAt(body.length - 2 - slashes) === 0x5c /* \ */) slashes++;
  }
  const complete = slashes % 2 === 1;
  const raw = complete ? body.slice(0, -2) : body;
  if (raw.indexOf('\\') < 0) return { stream, time, line: raw, complete };
  try {
    return { stream, time, line: JSON.parse(`"${raw}"`) as string, complete };
  } catch {
    return null;
  }
}

function parseGeneric(text: string): ParsedRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const { log, stream, time } = (value ?? {}) as { log?: unknown; stream?: unknown; time?: unknown };
  if (typeof log !== 'string' || (stream !== 'stdout' && stream !== 'stderr') || typeof time !== 'string') return null;
  const complete = log.endsWith('\n');
  return { stream, time, line: complete ? log.slice(0, -1) : log, complete };
}

// subMillisecond: the time has a non-zero digit past the milliseconds (Date keeps only those).
function subMillisecond(time: string): boolean {
  const dot = time.indexOf('.');
  if (dot < 0) return false;
  for (let i = dot + 4; i < time.length; i++) {
    const c = time.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    if (c !== 0x30) return true;
  }
  return false;
}

/** fixedNanoTime writes a record's time as Docker's `logs -t` does (Go's RFC3339NanoFixed): nine fractional digits. */
export function fixedNanoTime(time: string): string {
  const match = /^([^.]*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(time);
  if (!match) return time;
  return `${match[1]}.${(match[2] ?? '').slice(0, 9).padEnd(9, '0')}${match[3]}`;
}
