// Readiness of a started container, as test harnesses wait for it: a log
// line, a command that succeeds, a healthy health check, a port that accepts
// connections, an HTTP answer. Several run together under one deadline; a
// timeout names the strategy that was still waiting and shows the last log lines.
import { connect } from 'node:net';
import { request } from 'node:http';

import { checkExecArguments } from './argument-checks';
import { NboxError } from '../errors';
import type { Container } from './container-handle';
import { WaitError, WaitTimeoutError } from './wait-errors';

/** WaitTarget is what a strategy may ask of the container. */
export interface WaitTarget {
  container: Container;
  /** The host port a container port is published on (TCP). */
  hostPort(containerPort: number): Promise<number>;
  /** The container's TCP ports that are published, lowest first. */
  publishedTcpPorts(): Promise<number[]>;
  /** The address the published ports answer on from this host. */
  host: string;
  /** Aborted when the deadline passes or another strategy failed. */
  signal: AbortSignal;
}

/** WaitStrategy waits until one readiness condition holds; `describe` says what it waits for. */
export interface WaitStrategy {
  describe(): string;
  wait(target: WaitTarget): Promise<void>;
}

// Polls start quick (a busybox is ready in milliseconds) and back off to POLL_MS.
const FIRST_POLL_MS = 2;
const POLL_MS = 50;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(timer), reject(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** poll calls check until it says yes, every POLL_MS once backed off, until aborted; a check that throws a NboxError ends the wait. */
async function poll(signal: AbortSignal, check: () => Promise<boolean>): Promise<void> {
  for (let interval = FIRST_POLL_MS; ; interval = Math.min(interval * 2, POLL_MS)) {
    const ready = await check().catch((err: unknown) => {
      if (err instanceof NboxError) throw err;
      return false;
    });
    if (ready) return;
    await sleep(interval, signal);
  }
}

/** forLog waits until a log line (either stream) matches, `times` times in all (1 by default). It follows
 * the log, woken by each write to it (no poll interval to wait out), and stops the moment it is aborted. */
export function forLog(pattern: string | RegExp, options: { times?: number } = {}): WaitStrategy {
  const times = options.times ?? 1;
  const matches = (line: string) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
  const what = `log line ${String(pattern)}${times > 1 ? ` ${times} times` : ''}`;
  return {
    describe: () => what,
    async wait({ container, signal }) {
      let seen = 0;
      // A follow ends once the container no longer runs, after what it wrote before.
      for await (const entry of container.logs({ follow: true, signal })) {
        if (matches(entry.line) && ++seen >= times) return;
      }
      if (signal.aborted) throw signal.reason;
      throw new NboxError('ERR_NBOX_CONFLICT', `container exited before its log showed ${what} (${seen} seen)`);
    },
  };
}

/** forExec waits until cmd, run in the container, exits 0. */
export function forExec(cmd: string[]): WaitStrategy {
  // Refused as written, not at each poll until the deadline.
  checkExecArguments(cmd, {});
  return {
    describe: () => `exec ${JSON.stringify(cmd)} to exit 0`,
    wait: ({ container, signal }) => poll(signal, async () => (await container.exec(cmd, { stdio: 'ignore' })).exitCode === 0),
  };
}

/** forHealthcheck waits until the container's HEALTHCHECK reports healthy; unhealthy fails at once. */
export function forHealthcheck(): WaitStrategy {
  return {
    describe: () => 'health status healthy',
    wait: ({ container, signal }) =>
      poll(signal, async () => {
        const { state } = await container.record();
        if (state.health?.status === 'unhealthy') throw new NboxError('ERR_NBOX_CONFLICT', 'container is unhealthy');
        return state.health?.status === 'healthy';
      }),
  };
}

/** forPort waits until a TCP connect from this host to the published port of each container port given
 * succeeds; given none, of every TCP port the container publishes (testcontainers' default wait). */
export function forPort(...containerPorts: number[]): WaitStrategy {
  return {
    describe: () => (containerPorts.length > 0 ? `TCP connect to port ${containerPorts.join(', ')}` : 'TCP connect to every published port'),
    async wait({ hostPort, host, signal, publishedTcpPorts }) {
      const ports = containerPorts.length > 0 ? containerPorts : await publishedTcpPorts();
      if (ports.length === 0) throw new NboxError('ERR_NBOX_USAGE', 'forPort(): the container publishes no TCP port to wait for (give ports, or publish them)');
      for (const port of ports) {
        const published = await hostPort(port);
        await poll(signal, () => tcpConnects(host, published));
      }
    },
  };
}

/** forHttp waits until GET path on the published port answers (status 200 unless given); without `port`,
 * on the one TCP port the container publishes. */
export function forHttp(path: string, options: { port?: number; status?: number } = {}): WaitStrategy {
  const status = options.status ?? 200;
  return {
    describe: () => `HTTP ${status} from GET ${path} on ${options.port === undefined ? 'its published port' : `port ${options.port}`}`,
    async wait({ hostPort, host, signal, publishedTcpPorts }) {
      const published = await hostPort(options.port ?? await onlyPort(await publishedTcpPorts()));
      await poll(signal, () => httpStatus(host, published, path).then((got) => got === status));
    },
  };
}

// onlyPort is the port forHttp means when it names none: there must be exactly one to mean.
function onlyPort(ports: number[]): number {
  if (ports.length !== 1) {
    throw new NboxError('ERR_NBOX_USAGE', `forHttp(): give { port }: the container publishes ${ports.length === 0 ? 'no TCP port' : `several (${ports.join(', ')})`}`);
  }
  return ports[0];
}

function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function httpStatus(host: string, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

/** waitUntilReady runs the strategies together; all must hold before the deadline. A strategy that
 * fails (the container exited, turned unhealthy) ends the wait at once with a WaitError naming it. */
export async function waitUntilReady(target: Omit<WaitTarget, 'signal'>, strategies: WaitStrategy[], timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  const pending = new Set(strategies);
  const timer = setTimeout(() => controller.abort(new Error('deadline')), timeoutMs);
  let failed: { strategy: WaitStrategy; err: unknown } | undefined;
  try {
    await Promise.all(
      strategies.map(async (strategy) => {
        try {
          await strategy.wait({ ...target, signal: controller.signal });
          pending.delete(strategy);
        } catch (err) {
          if (!controller.signal.aborted) {
            failed = { strategy, err };
            controller.abort(err);
          }
          throw err;
        }
      }),
    );
  } catch (err) {
    const deadline = controller.signal.reason instanceof Error && controller.signal.reason.message === 'deadline';
    if (!deadline && !(failed && failed.err instanceof NboxError)) throw err;
    const tail: string[] = [];
    for await (const entry of target.container.logs({ tail: 10 })) tail.push(`${entry.stream}: ${entry.line}`);
    if (deadline) throw new WaitTimeoutError([...pending].map((s) => s.describe()), tail, timeoutMs);
    const why = (failed!.err as Error).message;
    throw new WaitError([failed!.strategy.describe()], tail, `container not ready: waiting for ${failed!.strategy.describe()} failed: ${why}`);
  } finally {
    clearTimeout(timer);
  }
}
