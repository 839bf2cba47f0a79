// The stop marker (`containers/<id>/stopped`): how `stop`, `kill` and `rm` tell a
// container's monitor that the end they cause is the user's, before they signal.
// The monitor reads it when the init exits (native/monitor.c, restart_wanted):
// `cancel` is moby's ExitOnNext (no policy restarts it), `manual` its
// HasBeenManuallyStopped (`unless-stopped` does not). `start` removes it.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ContainerRecord } from './container-record';

/** StopIntent is what the marker says about the end a user causes. */
export interface StopIntent {
  /** No restart policy runs it again. */
  cancel: boolean;
}

/** markStopped writes the marker; a stop or rm cancels, a kill cancels per killCancelsRestart. */
export function markStopped(record: ContainerRecord, intent: StopIntent): void {
  // Every user's stop or kill is manual; the file is whole or absent (one small write).
  writeFileSync(markerPath(record), intent.cancel ? 'cancel manual\n' : 'manual\n', { mode: 0o644 });
}

/** clearStopped removes the marker as a container starts again. */
export function clearStopped(record: ContainerRecord): void {
  rmSync(markerPath(record), { force: true });
}

function markerPath(record: ContainerRecord): string {
  return join(record.dir, 'stopped');
}
