// The one flock helper. flock(2) has no async form, so a wait is a poll with a
// growing pause; a dead holder's lock is dropped by the kernel, so no lock
// outlives its process and none needs breaking.
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { addon } from '../sys/addon';

/** Release drops a lock (closing its file); calling it twice is harmless. */
export type Release = () => Promise<void>;

/** LockMode is flock's LOCK_EX or LOCK_SH. */
export type LockMode = 'exclusive' | 'shared';

const FIRST_PAUSE_MS = 2;
const LONGEST_PAUSE_MS = 50;

/** lockFile waits until it holds a lock on file (created, mode 0600, if missing). */
export async function lockFile(file: string, mode: LockMode = 'exclusive'): Promise<Release> {
  return (await acquire(file, mode, true))!;
}

/** tryLockFile takes a lock on file if no one else holds one that conflicts; undefined if someone does. */
export function tryLockFile(file: string, mode: LockMode = 'exclusive'): Promise<Release | undefined> {
  return acquire(file, mode, false);
}

async function acquire(file: string, mode: LockMode, wait: boolean): Promise<Release | undefined> {
  // A lock file is local and opened at once: no trip through the thread pool.
  const fd = openSync(file, 'a', 0o600);
  try {
    for (let pause = FIRST_PAUSE_MS; !addon().tryLock(fd, mode === 'exclusive'); pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
      if (!wait) {
        closeSync(fd);
        return undefined;
      }
      await sleep(pause);
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    closeSync(fd);
  };
}
