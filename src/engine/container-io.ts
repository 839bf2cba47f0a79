// A container's streams over the API: attach (a hijacked connection, or a
// plain streamed reply), logs and wait. Output is framed as Docker frames it,
// except a terminal's, which is one raw stream.
import type { ServerResponse } from 'node:http';
import type { Readable, Writable } from 'node:stream';

import type { AttachSession, ContainerRecord, LogOptions } from '../api';
import type { RequestContext, Routes, Handler, HijackHandler } from './router';
import { EngineError, flag, terminalSize } from './http';
import { frame, MULTIPLEXED, RAW, type StreamType } from './frames';

/** StreamPeer is the client's end of a stream: output to it, input from it (stdin), and its going away. */
export interface StreamPeer {
  output: Writable;
  input: Readable | null;
}

/** writer writes one stream of a container to the peer: framed, or raw for a terminal. */
export function writer(output: Writable, tty: boolean, stream: StreamType): (chunk: Buffer) => void {
  return (chunk) => {
    if (!output.writableEnded && !output.destroyed) output.write(tty ? chunk : frame(stream, chunk));
  };
}

/** logTime reads the API's since/until: Unix seconds with a fraction; absent or 0 is no bound. */
function logTime(query: URLSearchParams, name: string): Date | undefined {
  const value = query.get(name);
  if (value === null || value === '' || value === '0') return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds)) throw new EngineError(400, `invalid value for ${name}: ${value}`);
  return new Date(seconds * 1000);
}

async function logs(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  const stdout = flag(ctx.query, 'stdout');
  const stderr = flag(ctx.query, 'stderr');
  if (!stdout && !stderr) throw new EngineError(400, 'Bad parameters: you must choose at least one stream');
  const tail = ctx.query.get('tail');
  const options: LogOptions = {
    follow: flag(ctx.query, 'follow'),
    timestamps: flag(ctx.query, 'timestamps'),
    since: logTime(ctx.query, 'since'),
    until: logTime(ctx.query, 'until'),
    tail: tail === null || tail === '' || tail === 'all' || Number(tail) < 0 ? 'all' : Number(tail),
  };
  const tty = record.config.tty ?? false;
  res.writeHead(200, { 'Content-Type': tty ? RAW : MULTIPLEXED });
  res.flushHeaders();
  await copyLogs(ctx, record, res, { stdout, stderr, tty }, options);
  res.end();
}

/** copyLogs writes a container's log records to output until they end (or, following, the container does) or the client goes. */
async function copyLogs(ctx: RequestContext, record: ContainerRecord, output: Writable, streams: { stdout: boolean; stderr: boolean; tty: boolean }, options: LogOptions): Promise<void> {
  const out = writer(output, streams.tty, 1);
  const err = writer(output, streams.tty, 2);
  // The client's going ends a follow at once, not at the quiet log's next line.
  const gone = clientGone(output);
  try {
    for await (const batch of ctx.nbox.logs(record.config.id, { ...options, signal: gone.signal }).batches()) {
      if (gone.signal.aborted) return;
      for (const entry of batch) {
        if (entry.stream === 'stdout' ? !streams.stdout : !streams.stderr) continue;
        const text = `${options.timestamps ? `${entry.time} ` : ''}${entry.line}${entry.partial ? '' : '\n'}`;
        (entry.stream === 'stderr' ? err : out)(Buffer.from(text));
      }
    }
  } finally {
    gone.release();
  }
}

/** clientGone is a signal that aborts when the client's stream closes; release() stops watching it. */
export function clientGone(stream: Writable): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort(new EngineError(499, 'the client went away'));
  if (stream.destroyed) abort();
  else stream.once('close', abort);
  return { signal: controller.signal, release: () => stream.off('close', abort) };
}

/** attachStreams reads attach's query: which streams, and whether to replay the log first. */
function attachQuery(query: URLSearchParams): { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean; stream: boolean } {
  return { stdin: flag(query, 'stdin'), stdout: flag(query, 'stdout'), stderr: flag(query, 'stderr'), logs: flag(query, 'logs'), stream: flag(query, 'stream') };
}

/** attach connects a client to a container. One that is not running yet (the docker CLI attaches before it
 * starts) is followed from its log once started, so no early output is lost; input and resizes go to its monitor. */
async function attach(ctx: RequestContext, peer: StreamPeer): Promise<void> {
  const wanted = attachQuery(ctx.query);
  // Input nobody asked for is read and dropped, so the client's close is seen.
  if (!wanted.stdin) peer.input?.resume();
  let record = await ctx.nbox.containerRecord(ctx.params.id);
  const tty = record.config.tty ?? false;
  if (wanted.logs) await copyLogs(ctx, record, peer.output, { ...wanted, tty }, {});
  if (!wanted.stream) return;
  const running = record.state.status === 'running';
  if (!running) {
    const since = new Date();
    const startedAt = record.state.startedAt;
    const gone = clientGone(peer.output);
    try {
      await ctx.state.whenStarted(record.config.id, async () => (await ctx.nbox.containerRecord(record.config.id)).state.startedAt !== startedAt, gone.signal);
    } finally {
      gone.release();
    }
    record = await ctx.nbox.containerRecord(record.config.id);
    const session = wanted.stdin && record.config.openStdin ? await connect(ctx, record, peer, { stdin: true, stdout: false, stderr: false }) : null;
    await copyLogs(ctx, record, peer.output, { ...wanted, tty }, { follow: true, since });
    session?.close();
    return;
  }
  const session = await connect(ctx, record, peer, { stdin: wanted.stdin, stdout: wanted.stdout, stderr: wanted.stderr });
  await session.ended;
}

/** connect attaches to the container's monitor, feeding it the peer's input; a half-close ends the container's stdin. */
async function connect(ctx: RequestContext, record: ContainerRecord, peer: StreamPeer, wanted: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<AttachSession> {
  const tty = record.config.tty ?? false;
  const session = await ctx.nbox.attachContainer(record.config.id, {
    stdin: wanted.stdin,
    stdout: wanted.stdout ? writer(peer.output, tty, 1) : null,
    stderr: wanted.stderr ? writer(peer.output, tty, 2) : null,
  });
  ctx.state.attached(record.config.id, session);
  session.ended.then(() => ctx.state.detached(record.config.id, session), () => {});
  if (wanted.stdin && peer.input) {
    peer.input.on('data', (chunk: Buffer) => session.write(chunk));
    peer.input.once('end', () => session.endInput());
    // The server paused the connection while it read the request: input flows from here.
    peer.input.resume();
  }
  peer.output.once('close', () => session.close());
  return session;
}

async function attachHijacked(ctx: RequestContext): ReturnType<HijackHandler> {
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  return { contentType: record.config.tty ? RAW : MULTIPLEXED, run: (conn) => attach(ctx, { output: conn, input: conn }) };
}

async function attachPlain(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  res.writeHead(200, { 'Content-Type': record.config.tty ? RAW : MULTIPLEXED });
  res.flushHeaders();
  await attach(ctx, { output: res, input: ctx.req });
  res.end();
}

async function resize(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const { rows, cols } = terminalSize(ctx.query);
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  for (const session of ctx.state.sessions(record.config.id)) session.resize({ rows, cols });
  res.writeHead(200);
  res.end();
}

/** wait answers once the condition holds: not-running (the default), next-exit or removed. */
async function wait(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const condition = ctx.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new EngineError(400, `invalid condition: "${condition}"`);
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  // The headers at once, as Docker sends them: the client then knows the wait is in place and may start it.
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  const id = record.config.id;
  if (condition !== 'not-running' && record.state.status !== 'running' && record.state.status !== 'restarting') {
    const startedAt = record.state.startedAt;
    const gone = clientGone(res);
    try {
      await ctx.state.whenStarted(id, async () => (await ctx.nbox.containerRecord(id).catch(() => null))?.state.startedAt !== startedAt, gone.signal);
    } finally {
      gone.release();
    }
  }
  let code: number;
  try {
    code = await ctx.nbox.waitContainer(id);
  } catch (err) {
    // Removed as it ended (AutoRemove): this server kept its code.
    const kept = ctx.state.exitCodes.get(id);
    if (kept === undefined) throw err;
    code = kept;
  }
  if (condition === 'removed') {
    while (await ctx.nbox.containerRecord(id).then(() => true, () => false)) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (condition === 'removed') code = ctx.state.exitCodes.get(id) ?? code;
  res.end(JSON.stringify({ StatusCode: code, Error: null }));
}

/** addContainerIoRoutes adds logs, attach, resize and wait. */
export function addContainerIoRoutes(routes: Routes<Handler>, hijacks: Routes<HijackHandler>): void {
  routes
    .add('GET', '/containers/{id}/logs', logs)
    .add('POST', '/containers/{id}/attach', attachPlain)
    .add('POST', '/containers/{id}/resize', resize)
    .add('POST', '/containers/{id}/wait', wait);
  hijacks.add('POST', '/containers/{id}/attach', attachHijacked);
}

