// A build as the library runs it: the context opened, the Dockerfile's steps
// run against the store with its layers pinned, the tags set, and every temp
// thing removed after, whatever happened.
import { closeSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';

import { normalizeTag } from '../image/reference';
import type { Store } from '../image/store';
import { buildNetwork } from '../runtime/network';
import { openContext } from './context';
import { runBuild } from './executor';
import { checkInterrupted } from './interrupt';
import { silentOutput, type BuildOutput } from './output';
import { checkSecretFiles } from './run-mounts';

/** BuilderOptions are `docker build`'s options, as data (less how registries are reached). */
export interface BuilderOptions {
  /** A context directory, a tarball path, '-' for stdin, or a tar (or Dockerfile) stream; none with
   * dockerfileText is an empty context. */
  context?: string | Readable;
  /** -f: the Dockerfile, relative to the context or absolute; default <context>/Dockerfile. */
  dockerfile?: string;
  /** The Dockerfile itself, as text (instead of a file of the context). */
  dockerfileText?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  labels?: Record<string, string>;
  noCache?: boolean;
  /** Build secrets for RUN --mount=type=secret: id → host file path. */
  secrets?: Record<string, string>;
  /** SSH agents for RUN --mount=type=ssh: id → ssh-agent socket path (key files are refused). */
  sshAgents?: Record<string, string>;
  /** RUN's network: default (the host's, as `docker build`), host or none; another is refused. */
  network?: string;
  /** Progress lines; silent unless given. */
  output?: BuildOutput;
  /** Where RUN output goes (default: /dev/null). */
  stdio?: [number, number, number];
  signal?: AbortSignal;
  /** --pull: fetch base images from their registry even when the store has them (missing ones are always pulled). */
  pull?: boolean;
}

/** PullBase fetches a base image the store lacks (or all, with `pull`), reporting on output. */
export type PullBase = (ref: string, output: BuildOutput) => Promise<void>;

/** buildImage builds a Dockerfile into an image and tags it; returns the image ID. */
export async function buildImage(store: Store, options: BuilderOptions, pullBase: PullBase): Promise<string> {
  const network = buildNetwork(options.network);
  const tags = (options.tags ?? []).map(normalizeTag);
  const secrets = new Map(Object.entries(options.secrets ?? {}));
  await checkSecretFiles(secrets);
  const output = options.output ?? silentOutput;
  const unpin = await store.layers.pin();
  const scratch = await store.root.makeTempDir('context');
  const devNull = options.stdio ? undefined : openSync('/dev/null', 'r+');
  try {
    const context = await openContext({
      ...(typeof options.context === 'string' ? { path: options.context } : { tarStream: options.context }),
      dockerfile: options.dockerfile,
      dockerfileText: options.dockerfileText,
      tmpDir: scratch,
    });
    try {
      const id = await runBuild(store, {
        dockerfileText: context.dockerfileText,
        dockerfileName: context.dockerfilePath === '-' ? 'Dockerfile' : basename(context.dockerfilePath),
        contextDir: context.dir,
        ignore: context.ignore,
        buildArgs: new Map(Object.entries(options.buildArgs ?? {})),
        target: options.target,
        labels: options.labels ?? {},
        noCache: options.noCache ?? false,
        secrets,
        sshAgents: new Map(Object.entries(options.sshAgents ?? {})),
        network,
        output,
        stdio: options.stdio ?? [devNull!, devNull!, devNull!],
        // Without fds of the caller's, RUN's output goes to the progress, if that takes it.
        runOutput: options.stdio ? undefined : output.runOutput,
        signal: options.signal,
        alwaysPull: options.pull,
        pullImage: (ref) => pullBase(ref, output),
      });
      checkInterrupted(options.signal);
      for (const tag of tags) await store.images.tag(id, tag);
      output.built(id);
      for (const tag of tags) output.tagged(tag);
      return id;
    } finally {
      await context.close();
    }
  } finally {
    if (devNull !== undefined) closeSync(devNull);
    await store.root.removeTree(scratch);
    await unpin();
  }
}
