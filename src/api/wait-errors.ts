// The errors of a readiness wait, apart from the strategies: a program can test
// for them (instanceof) without loading what the strategies need (net, http).
import { NboxError } from '../errors';

/** WaitError says which strategy failed and why, with the container's last log lines. */
export class WaitError extends NboxError {
  constructor(
    readonly waitingFor: string[],
    readonly lastLogLines: string[],
    reason: string,
  ) {
    super('ERR_NBOX_CONFLICT', `${reason}${lastLogLines.length ? `\nlast log lines:\n${lastLogLines.join('\n')}` : ''}`);
    this.name = 'WaitError';
  }
}

/** WaitTimeoutError names what was still awaited when the deadline passed. */
export class WaitTimeoutError extends WaitError {
  constructor(waitingFor: string[], lastLogLines: string[], timeoutMs: number) {
    super(waitingFor, lastLogLines, `container not ready after ${timeoutMs} ms: still waiting for ${waitingFor.join('; ')}`);
    this.name = 'WaitTimeoutError';
  }
}
