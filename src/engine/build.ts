// POST /build: a classic build from a tar context, its progress as Docker's
// JSON message stream (`stream` lines, the image ID as `aux`, a failure as
// `errorDetail`).
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

import { consoleOutput } from '../api';
import type { RequestContext, Routes, Handler } from './router';
import { EngineError, flag, jsonQuery } from './http';
import { streamed, type JsonMessages } from './json-stream';
import { clientGone } from './container-io';

/** lines turns what the builder writes into one `stream` message per write, as the classic builder sends them. */
function lines(messages: JsonMessages, prefix = ''): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      messages.stream(prefix + chunk.toString('utf8'));
      done();
    },
  });
}

/** runLines sends a RUN's output as `stream` messages between the step's lines, as the classic builder does. */
function runLines(messages: JsonMessages): (chunk: Buffer) => void {
  const decoder = new StringDecoder('utf8');
  return (chunk) => {
    const text = decoder.write(chunk);
    if (text !== '') messages.stream(text);
  };
}

/** dockerfilePath is the `dockerfile` parameter, which names a file in the context and nothing outside it. */
function dockerfilePath(query: URLSearchParams): string | undefined {
  const path = query.get('dockerfile');
  if (!path) return undefined;
  if (path.startsWith('/') || path.split('/').includes('..')) throw new EngineError(400, `the Dockerfile (${path}) must be within the build context`);
  return path;
}

async function build(ctx: RequestContext, res: ServerResponse): Promise<void> {
  if (ctx.query.get('remote')) throw new EngineError(400, 'remote build contexts are not supported: send the context as a tar');
  const dockerfile = dockerfilePath(ctx.query);
  const tags = ctx.query.getAll('t');
  const buildArgs = jsonQuery<Record<string, string | null>>(ctx.query, 'buildargs') ?? {};
  const labels = jsonQuery<Record<string, string>>(ctx.query, 'labels');
  const quiet = flag(ctx.query, 'q');
  // A client that goes (docker build's Ctrl-C closes the connection) cancels the build: nothing is tagged.
  const gone = clientGone(res);
  await streamed(res, async (messages) => {
    const id = await ctx.nbox.build({
      context: ctx.req,
      file: dockerfile,
      tags,
      buildArgs: Object.fromEntries(Object.entries(buildArgs).filter((entry): entry is [string, string] => entry[1] !== null)),
      target: ctx.query.get('target') || undefined,
      labels,
      noCache: flag(ctx.query, 'nocache'),
      pull: flag(ctx.query, 'pull'),
      output: quiet ? consoleOutput(lines(messages), lines(messages), true) : { ...consoleOutput(lines(messages), lines(messages)), runOutput: runLines(messages) },
      signal: gone.signal,
    });
    messages.write({ aux: { ID: id } });
    for (const tag of tags) ctx.state.emit('image', 'tag', id, { name: tag });
  }).finally(() => gone.release());
}

/** addBuildRoutes adds /build. */
export function addBuildRoutes(routes: Routes<Handler>): void {
  routes.add('POST', '/build', build);
}
