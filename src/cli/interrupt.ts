// SIGINT and SIGTERM in the middle of a verb that stores images (pull, load,
// import): what it had under way in the store goes before the process ends,
// as Docker cancels and cleans up, instead of waiting for the next open's sweep.
import type { Nbox } from '../api';

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

/** removeTempOnSignal ends this process on SIGINT or SIGTERM (exit 128 + the signal) once nbox's temp files are gone. */
export function removeTempOnSignal(nbox: Nbox): void {
  for (const [signal, number] of Object.entries(SIGNAL_NUMBERS)) {
    process.once(signal, () => {
      void nbox.removeTempFiles().finally(() => process.exit(128 + number));
    });
  }
}
