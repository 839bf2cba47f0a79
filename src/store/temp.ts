// Temp entries in the store's tmp/: every file and directory is made there and
// renamed into place. A name says which process made it, so a store open can
// sweep what killed processes left behind.
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { processStartTime } from '../sys/proc';
import { randomBytes } from '../sys/random';

// `<pid>-<starttime>-<random>[-label]`: only names of this shape are ever swept.
const tempNamePattern = /^(\d+)-(\d+)-[0-9a-f]{12}(?:-[a-z][a-z-]*)?$/;

/** tempOwner names this process for temp entries: its pid and start time, as pids are reused; undefined without /proc. */
export function tempOwner(): string | undefined {
  const startTime = processStartTime(process.pid);
  return startTime < 0 ? undefined : `${process.pid}-${startTime}`;
}

/** tempName is a fresh temp entry name for owner, with an optional label that says what it is for. */
export function tempName(owner: string, label?: string): string {
  return `${owner}-${randomBytes(6).toString('hex')}${label ? `-${label}` : ''}`;
}

/** staleTempEntries lists the entries of tmpDir whose owner is dead. A process
 * is the same one only if its start time matches too; a name nbox does not
 * make is not nbox's to remove. */
export function staleTempEntries(tmpDir: string): string[] {
  const stale: string[] = [];
  for (const name of readdirSync(tmpDir)) {
    const owner = tempNamePattern.exec(name);
    if (owner && String(processStartTime(Number(owner[1]))) !== owner[2]) stale.push(path.join(tmpDir, name));
  }
  return stale;
}

/** ownTempEntries lists the entries of tmpDir that owner (tempOwner's) made. */
export function ownTempEntries(tmpDir: string, owner: string): string[] {
  return readdirSync(tmpDir).filter((name) => name.startsWith(`${owner}-`) && tempNamePattern.test(name)).map((name) => path.join(tmpDir, name));
}
