// The stop marker (`containers/<id>/stopped`): how `stop`, `kill` and `rm` tell a
// container's monitor that the end they cause is the user's, before they signal.
// The monitor reads it when the init exits (native/monitor.c, restart_wanted):
// `cancel` is moby's ExitOnNext (no policy restarts it), `manual` its
// HasBeenManuallyStopped (`unless-stopped` does not), `remover` the `rm -f`
// that releases the container's network leases itself, so the monitor starts
// no sweep of them as it exits while that process lives. `start` removes it.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ContainerRecord } from './container-record';
import type { ProcessIdentity } from './container-state';

/** StopIntent is what the marker says about the end a user causes. */
export interface StopIntent {
  /** No restart policy runs it again. */
  cancel: boolean;
  /** The process that removes the container (and releases its leases) once it ends. */
  remover?: ProcessIdentity;
}

/** markStopped writes the marker; a stop or rm cancels, a kill cancels per killCancelsRestart. */
export function markStopped(record: ContainerRecord, intent: StopIntent): void {
  // Every user's stop or kill is manual; the file is whole or absent (one small write).
  const remover = intent.remover ? ` remover ${intent.remover.pid} ${intent.remover.startTime}` : '';
  writeFileSync(markerPath(record), `${intent.cancel ? 'cancel manual' : 'manual'}${remover}\n`, { mode: 0o644 });
}

/** clearStopped removes the marker as a container starts again. */
export function clearStopped(record: ContainerRecord): void {
  rmSync(markerPath(record), { force: true });
}

function markerPath(record: ContainerRecord): string {
  return join(record.dir, 'stopped');
}
