// A build the caller aborted (Ctrl-C) stops at the next step boundary.
import { NboxError } from '../errors';

/** checkInterrupted throws once the caller has aborted the build. */
export function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NboxError('ERR_NBOX_BUILD', 'build interrupted');
}
