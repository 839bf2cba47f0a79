// A wait for a directory's change that does not miss one: fs.watch to wake at
// once, a poll interval to wake anyway.
import { watch, type FSWatcher } from 'node:fs';

/** ChangeSignal wakes a waiter when a directory changes (fs.watch; only for the names `only` takes, when
 * given), or after a poll interval at the latest: fs.watch may miss events, and some changes (a process
 * that died) make none. */
export class ChangeSignal {
  private watcher: FSWatcher | null = null;
  private changed = false;
  private wake: (() => void) | null = null;

  constructor(dir: string, private readonly interval: number, only?: (name: string) => boolean) {
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (!only || (name !== null && only(name))) this.signal();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      // A directory that cannot be watched: polling alone.
    }
  }

  async next(): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.signal(), this.interval);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.changed = false;
  }

  /** wakeNow ends the wait in progress, if any (an abort). */
  wakeNow(): void {
    this.signal();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private signal(): void {
    this.changed = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
