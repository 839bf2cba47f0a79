// What the server keeps between requests: exec instances (Docker keeps them in
// the daemon too) and the event stream of what it did.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';

import type { AttachSession } from '../api';

/** ExecConfig is an exec instance's create body, as Docker's ExecConfig. */
export interface ExecConfig {
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
  DetachKeys?: string;
  ConsoleSize?: [number, number] | null;
}

/** ExecInstance is one `exec create`, started at most once. */
export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  started: boolean;
  running: boolean;
  exitCode: number | null;
  pid: number;
  resize?: (rows: number, columns: number) => void;
}

/** EngineEvent is one line of `/events`, as Docker's events.Message. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

/** EngineState is the server's memory: nothing here is needed to read the store. */
export class EngineState {
  readonly execs = new Map<string, ExecInstance>();
  readonly events = new EventEmitter();
  private readonly starts = new EventEmitter();
  private readonly removals = new EventEmitter();
  private readonly attachSessions = new Map<string, Set<AttachSession>>();
  /** Containers created with AutoRemove: this server removes them once their exit code is kept here,
   * so `wait` still answers it (Docker keeps a `run --rm`'s code; podman's service loses it). */
  readonly autoRemove = new Set<string>();
  readonly exitCodes = new Map<string, number>();

  attached(containerId: string, session: AttachSession): void {
    const set = this.attachSessions.get(containerId) ?? new Set();
    set.add(session);
    this.attachSessions.set(containerId, set);
  }

  detached(containerId: string, session: AttachSession): void {
    this.attachSessions.get(containerId)?.delete(session);
    if (this.attachSessions.get(containerId)?.size === 0) this.attachSessions.delete(containerId);
  }

  sessions(containerId: string): AttachSession[] {
    return [...(this.attachSessions.get(containerId) ?? [])];
  }

  /** started tells attaches waiting on a created container that this server started it. */
  started(containerId: string): void {
    this.starts.emit(containerId);
  }

  /** whenStarted resolves when this server starts the container, or when `check` (run every 100 ms, for a
   * start by another process) says it has, or when the container is removed (the caller then finds it gone);
   * it rejects when the check does or when `signal` aborts (the client went away): a container that never
   * starts holds no poll. */
  whenStarted(containerId: string, check: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stop = () => {
        clearInterval(timer);
        this.starts.off(containerId, done);
        this.removals.off(containerId, done);
        signal.removeEventListener('abort', aborted);
      };
      const done = () => (stop(), resolve());
      const failed = (err: unknown) => (stop(), reject(err));
      const aborted = () => failed(signal.reason);
      const timer = setInterval(() => {
        check().then((yes) => yes && done(), failed);
      }, 100);
      this.starts.once(containerId, done);
      this.removals.once(containerId, done);
      signal.addEventListener('abort', aborted, { once: true });
      if (signal.aborted) aborted();
    });
  }

  /** removed forgets a removed container: its exec instances go with it (as Docker drops them), and starts awaited end. */
  removed(containerId: string): void {
    for (const [id, exec] of this.execs) if (exec.containerId === containerId) this.execs.delete(id);
    this.removals.emit(containerId);
  }

  newExec(containerId: string, config: ExecConfig): ExecInstance {
    const exec: ExecInstance = { id: randomBytes(32).toString('hex'), containerId, config, started: false, running: false, exitCode: null, pid: 0 };
    this.execs.set(exec.id, exec);
    return exec;
  }

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const nanos = process.hrtime.bigint() % 1_000_000_000n;
    const seconds = Math.floor(Date.now() / 1000);
    const event: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: seconds, timeNano: Number(BigInt(seconds) * 1_000_000_000n + nanos) };
    this.events.emit('event', event);
  }
}
