// What happens to the store's containers, whoever does it (this process, the
// CLI, a detached container's monitor): create, start, die and destroy, read
// off the records as they change. Every writer already renames a whole
// directory into containers/ (create) or out of it (remove), and a whole
// state.json into a container's directory, so inotify on those directories
// sees every change and no writer has to report anything.
import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** ContainerEventAction is what happened: Docker's event actions. */
export type ContainerEventAction = 'create' | 'start' | 'die' | 'destroy';

/** ContainerEvent is one change of one container. */
export interface ContainerEvent {
  action: ContainerEventAction;
  id: string;
  name: string;
  image: string;
  /** A die's exit code. */
  exitCode?: number;
  time: Date;
}

/** ContainerEventWatch stops the watching. */
export interface ContainerEventWatch {
  close(): void;
}

interface Seen {
  name: string;
  image: string;
  startedAt: string;
  finishedAt: string;
  running: boolean;
  watcher: FSWatcher | null;
}

interface StateFields {
  status: string;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
}

const ID = /^[0-9a-f]{64}$/;

/** watchContainerEvents reports the containers' changes from now on; the ones there now are the baseline. */
export function watchContainerEvents(containersDir: string, listener: (event: ContainerEvent) => void): ContainerEventWatch {
  const seen = new Map<string, Seen>();
  const report = (action: ContainerEventAction, id: string, known: Seen, exitCode?: number) =>
    listener({ action, id, name: known.name, image: known.image, time: new Date(), ...(exitCode === undefined ? {} : { exitCode }) });

  // check reads a container's record again and reports what changed since the last read.
  const check = (id: string, fresh: boolean): void => {
    const dir = join(containersDir, id);
    const known = seen.get(id);
    const state = readJson<StateFields>(join(dir, 'state.json'));
    if (state === null) {
      if (known === undefined) return;
      // Gone (removed, renamed out): a run still on record ended with it.
      if (known.running) report('die', id, known);
      seen.delete(id);
      known.watcher?.close();
      report('destroy', id, known);
      return;
    }
    let current = known;
    if (current === undefined) {
      const config = readJson<{ name: string; imageRef: string }>(join(dir, 'config.json'));
      current = { name: config?.name ?? '', image: config?.imageRef ?? '', startedAt: ZERO_TIME, finishedAt: ZERO_TIME, running: false, watcher: null };
      seen.set(id, current);
      current.watcher = watchDir(dir, (file) => file === 'state.json' && check(id, true));
      if (fresh) report('create', id, current);
      else Object.assign(current, { startedAt: state.startedAt, finishedAt: state.finishedAt, running: state.status === 'running' });
    }
    if (!fresh) return;
    // A start and its end may both have happened since the last read: each time field tells its own.
    if (state.startedAt !== current.startedAt && state.startedAt !== ZERO_TIME) {
      if (current.running) report('die', id, current);
      current.startedAt = state.startedAt;
      current.running = true;
      report('start', id, current);
    }
    if (state.finishedAt !== current.finishedAt && state.finishedAt !== ZERO_TIME && state.status !== 'running' && state.status !== 'restarting') {
      current.finishedAt = state.finishedAt;
      current.running = false;
      report('die', id, current, state.exitCode);
    }
  };

  const top = watchDir(containersDir, (entry) => ID.test(entry) && check(entry, true));
  for (const id of listIds(containersDir)) check(id, false);
  return {
    close() {
      top?.close();
      for (const known of seen.values()) known.watcher?.close();
      seen.clear();
    },
  };
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

function listIds(dir: string): string[] {
  try {
    return readdirSync(dir).filter((entry) => ID.test(entry));
  } catch {
    return [];
  }
}

// watchDir calls back with the name of each entry that changes; a directory gone meanwhile is no watch.
function watchDir(dir: string, onEntry: (entry: string) => void): FSWatcher | null {
  try {
    const watcher = watch(dir, { persistent: false }, (_type, entry) => entry && onEntry(entry.toString()));
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    return null;
  }
}
