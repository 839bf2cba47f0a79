// Per-layer progress of pull and push as Docker prints it: on a terminal one
// line per layer, rewritten in place as its status changes; into a pipe,
// one plain `ID: STATUS` line per change.
import type { TransferProgress } from '../api';

/** progressPrinter returns a listener that prints transfer progress to stream. */
export function progressPrinter(stream: NodeJS.WriteStream): (event: TransferProgress) => void {
  // Byte counts are for the terminal only, as Docker prints them.
  if (!stream.isTTY) {
    return (event) => {
      if (event.current === undefined) stream.write(`${event.id}: ${event.status}\n`);
    };
  }
  const order: string[] = [];
  const statuses = new Map<string, string>();
  return (event) => {
    if (!statuses.has(event.id)) {
      order.push(event.id);
      stream.write('\n');
    }
    statuses.set(event.id, event.current === undefined ? event.status : `${event.status} ${megabytes(event.current)}${event.total === undefined ? '' : `/${megabytes(event.total)}`}`);
    // Back to the first layer's line, then every line redrawn and cleared to its end.
    stream.write(`\x1b[${order.length}A`);
    for (const id of order) stream.write(`\r${id}: ${statuses.get(id)}\x1b[K\n`);
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)}MB`;
}
