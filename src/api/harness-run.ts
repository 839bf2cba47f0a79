// run() as a test harness uses it: a container started in the background under
// its monitor (its output goes to the monitor's log file, read on demand, so a
// container nobody reads is never blocked), with its ports published, files
// copied in before it starts, and readiness awaited under one deadline.
import { readFile, stat } from 'node:fs/promises';

import { NboxError } from '../errors';
import type { ImageRecord } from '../image/images';
import { createContainer, runDetached } from '../runtime/run';
import type { RunContext, RunOptions } from '../runtime/run-options';
import { Container } from './container-handle';
import type { ContainerApi } from './containers';
import type { WaitStrategy } from './wait-strategies';

/** PortsOption publishes container ports: `[80, '53/udp']` each on a free host port, or
 * `{ 80: 0, '443/tcp': 8443 }` container port → host port (0: a free one). TCP unless said. */
export type PortsOption = Array<number | string> | Record<string, number>;

/** FileCopy is a file put in the container before it starts: given content, or a host file's. */
export type FileCopy =
  | { target: string; content: string | Buffer; mode?: number }
  | { target: string; source: string; mode?: number };

/** ContainerRunOptions are run()'s options for a container started in the background (a harness's form). */
export interface ContainerRunOptions extends Omit<RunOptions, 'stdio' | 'detach'> {
  /** Published ports, on every host address as Docker's `-p`; `Container.port(n)` reads the host port chosen. */
  ports?: PortsOption;
  /** Files copied in before the container's command starts. */
  files?: FileCopy[];
  /** Readiness: run resolves once every strategy holds (`Wait.forLog(…)`, …). */
  wait?: WaitStrategy | WaitStrategy[];
  /** ms for all `wait` strategies together (60 s by default); on failure the container is removed. */
  deadline?: number;
  /** The background is the default. `true` asks for `docker run -d`'s kind: the container outlives this
   * process (it is not a `session` one unless `session: true` says so). */
  detach?: true;
}

const DEFAULT_DEADLINE_MS = 60_000;

/** publishSpecs turns `ports` into `-p` specs, checked by the same parser as the CLI's. */
export function publishSpecs(ports: PortsOption | undefined): string[] {
  if (ports === undefined) return [];
  if (Array.isArray(ports)) return ports.map(String);
  return Object.entries(ports).map(([containerPort, hostPort]) => `${hostPort === 0 ? '' : hostPort}:${containerPort}`);
}

/** runInBackground starts a container under its monitor as ContainerRunOptions say; nothing is left behind when it fails. */
export async function runInBackground(api: ContainerApi, ctx: RunContext, image: ImageRecord, imageRef: string, options: ContainerRunOptions): Promise<Container> {
  const { ports, files = [], wait, deadline, ...rest } = options;
  // A harness's container is its process's (session) unless it asked for `docker run -d`'s kind with `detach: true`.
  const session = rest.session ?? options.detach !== true;
  const runOptions: RunOptions = { ...rest, session, publish: [...(rest.publish ?? []), ...publishSpecs(ports)], detach: true };
  const contents = await Promise.all(files.map(fileContent));
  let container: Container;
  if (files.length === 0) {
    container = new Container(api, (await runDetached(ctx, image, imageRef, runOptions)).id);
  } else {
    // Created, filled, then started: the command never sees the container without its files.
    container = new Container(api, (await createContainer(ctx, image, imageRef, runOptions)).config.id);
    await removedOnFailure(container, async () => {
      for (const [index, file] of files.entries()) await container.writeFile(file.target, contents[index].data, { mode: contents[index].mode });
      await container.start();
    });
  }
  const strategies = wait === undefined ? [] : [wait].flat();
  if (strategies.length > 0) {
    await removedOnFailure(container, () => container.waitFor(strategies, { timeout: deadline ?? DEFAULT_DEADLINE_MS }));
  }
  return container;
}

// fileContent reads a FileCopy's data and mode (a host file keeps its permission bits unless mode says).
async function fileContent(file: FileCopy): Promise<{ data: Buffer; mode?: number }> {
  if ('content' in file) return { data: Buffer.from(file.content), mode: file.mode };
  const stats = await stat(file.source).catch(() => {
    throw new NboxError('ERR_NBOX_USAGE', `files: no such host file: ${file.source}`);
  });
  if (!stats.isFile()) throw new NboxError('ERR_NBOX_USAGE', `files: ${file.source} is not a regular file (copy a directory with copyTo)`);
  return { data: await readFile(file.source), mode: file.mode ?? stats.mode & 0o7777 };
}

async function removedOnFailure(container: Container, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    await container.remove({ force: true }).catch(() => {});
    throw err;
  }
}
