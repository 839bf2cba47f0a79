// Docker's JSON message stream (pull, push, load, build): one JSON document
// per line, progress as `status`, text as `stream`, and a failure that began
// after the 200 as an `errorDetail` line, since the status is already sent.
import type { ServerResponse } from 'node:http';

/** JsonMessages writes one reply's message stream; the 200 goes with its first message, so a failure
 * before any (a refused login, an unknown image) is still an HTTP error, as Docker's daemon answers it. */
export class JsonMessages {
  constructor(private readonly res: ServerResponse) {}

  /** begun is true once the 200 is sent. */
  get begun(): boolean {
    return this.res.headersSent;
  }

  private begin(): void {
    if (this.res.headersSent) return;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.res.flushHeaders();
  }

  write(message: Record<string, unknown>): void {
    this.begin();
    if (!this.res.writableEnded) this.res.write(`${JSON.stringify(message)}\n`);
  }

  status(status: string, id?: string, progress?: { current?: number; total?: number }): void {
    this.write({ status, ...(id === undefined ? {} : { id }), ...(progress?.current === undefined ? {} : { progressDetail: progress }) });
  }

  stream(text: string): void {
    this.write({ stream: text });
  }

  error(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.write({ errorDetail: { message }, error: message });
  }

  end(): void {
    this.begin();
    this.res.end();
  }
}

/** streamed runs work that reports on a message stream and ends it, with a failure as its last line;
 * a failure before the first line is thrown, for the caller to answer with its status. */
export async function streamed(res: ServerResponse, work: (messages: JsonMessages) => Promise<void>): Promise<void> {
  const messages = new JsonMessages(res);
  try {
    await work(messages);
  } catch (err) {
    if (!messages.begun) throw err;
    messages.error(err);
  }
  messages.end();
}
