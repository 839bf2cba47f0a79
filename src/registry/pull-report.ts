// What `docker pull` prints around its layers' progress: the header naming
// the repository, and the digest and status lines at the end. A build's FROM
// prints the same lines, as the classic builder does.
import { parseReference, splitReference } from '../image/reference';
import type { PullResult } from './pull';
import type { TransferProgress } from './transfer';

/** pullHeader is `TAG: Pulling from PATH` (PATH as Docker names it: `library/busybox`). */
export function pullHeader(ref: string): string {
  const { path, tag, digest } = parseReference(ref);
  return `${digest ?? tag ?? 'latest'}: Pulling from ${path}`;
}

/** pullStatus is the `Digest:` and `Status:` lines after the layers. */
export function pullStatus(ref: string, result: PullResult): string[] {
  const { repository, digest } = splitReference(ref);
  const shown = result.tag ?? `${repository}@${digest}`;
  return [`Digest: ${result.digest}`, result.upToDate ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}`];
}

/** plainPullLines reports a pull as `docker pull` prints it into a pipe, one
 * line per note: the header before the first layer's status (a pull that fails
 * before it starts prints none), each status change without byte counts, then
 * the digest and status once done is called. */
export function plainPullLines(ref: string, note: (line: string) => void): { progress: (event: TransferProgress) => void; done: (result: PullResult) => void } {
  let header: string | undefined = pullHeader(ref);
  return {
    progress: (event) => {
      if (header) note(header);
      header = undefined;
      if (event.current === undefined) note(`${event.id}: ${event.status}`);
    },
    done: (result) => {
      if (header) note(header);
      header = undefined;
      for (const line of pullStatus(ref, result)) note(line);
    },
  };
}
