// A RUN step: a container on the current layer chain whose overlay upper dir
// becomes the step's layer, whiteouts and all, with no tar made but the one
// streamed through sha256 for the diffID.
import { mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';

import { NboxError } from '../errors';
import type { SealedLayer } from '../image/layers';
import type { Store } from '../image/store';
import { MergedTree } from '../image/merged-tree';
import type { BindMount } from '../runtime/launch';
import { containerSpec, imageUser, type ContainerDirs } from '../runtime/container-spec';
import { etcFiles, writeEtcFiles } from '../runtime/etc-files';
import { launch, type Launched } from '../runtime/launch';
import { removeMountStubs } from '../runtime/mount-stubs';
import { outputPipe, type OutputPipe } from '../runtime/output-pipe';
import { checkInterrupted } from './interrupt';

/** RunStepInput is what a RUN instruction needs, resolved by the executor. */
export interface RunStepInput {
  /** Layer dirs of the image so far, topmost first ([] for scratch). */
  layers: string[];
  argv: string[];
  env: string[];
  /** USER as written; resolved in the image's /etc/passwd and /etc/group. */
  user: string;
  workdir: string;
  network: 'host' | 'none';
  /** Also the container's hostname (first 12 characters). */
  containerId: string;
  stdio: [number, number, number];
  /** Where the command's stdout and stderr go instead of stdio's, chunk by chunk, all of it before the step ends. */
  runOutput?: (chunk: Buffer) => void;
  /** Aborting kills the step's container (Ctrl-C on the build). */
  signal?: AbortSignal;
  /** RUN --mount mounts, after /etc/hosts and friends; their stubs never reach the layer. */
  mounts?: BindMount[];
}

/** StepCommandError is a RUN whose command exited non-zero, worded as Docker words it. */
export class StepCommandError extends NboxError {
  constructor(readonly command: string[], readonly exitCode: number) {
    super('ERR_NBOX_BUILD', `The command '${command.join(' ')}' returned a non-zero code: ${exitCode}`);
    this.name = 'StepCommandError';
  }
}

/** runStep runs the command and returns its upper dir as an unpacked layer ready to commit. */
export async function runStep(store: Store, input: RunStepInput): Promise<SealedLayer> {
  const layer = await store.layers.begin();
  try {
    const diff = layer.dir;
    const scratch = layer.scratch;
    const dirs = {
      upper: diff, work: join(scratch, 'work'), rootfs: join(scratch, 'rootfs'), emptyLower: join(scratch, 'empty'),
      hosts: join(scratch, 'hosts'), hostname: join(scratch, 'hostname'), resolvConf: join(scratch, 'resolv.conf'),
    };
    await mkdir(scratch);
    await Promise.all([mkdir(dirs.work), mkdir(dirs.rootfs)]);
    const hostname = input.containerId.slice(0, 12);
    await writeEtcFiles(dirs, await etcFiles(input.network, hostname));
    const output = input.runOutput ? outputPipe(input.runOutput) : undefined;
    let mountTargets: string[];
    try {
      mountTargets = await runCommand(input, dirs, hostname, output);
    } finally {
      output?.close();
    }
    // Stubs are where the child made them: at each target as launch resolved it
    // in the image (a dangling /etc/resolv.conf link gets its file at the link's target).
    removeMountStubs(diff, missingInImage(input.layers, mountTargets));
    return await layer.seal();
  } catch (err) {
    await layer.abort();
    throw err;
  }
}

// runCommand runs the step's container to its end (with its output all handed over) and returns the targets of
// its mounts, as launch resolved them; a non-zero exit is Docker's error.
async function runCommand(input: RunStepInput, dirs: ContainerDirs, hostname: string, output: OutputPipe | undefined): Promise<string[]> {
  const container = await launch(await containerSpec({
    id: input.containerId,
    layers: input.layers,
    dirs,
    argv: input.argv,
    env: input.env,
    cwd: input.workdir || '/',
    chownCwd: true,
    user: await imageUser(input.layers, input.user),
    hostname,
    network: input.network,
    mounts: input.mounts,
    stdio: output ? [input.stdio[0], output.fd, output.fd] : input.stdio,
  }));
  output?.started();
  const status = await waitAbortable(container, input.signal);
  await output?.drained();
  checkInterrupted(input.signal);
  if (status.exitCode !== 0) throw new StepCommandError(input.argv, status.exitCode ?? 128 + (status.signal ?? 0));
  return container.mounts.map((m) => m.target);
}

async function waitAbortable(container: Launched, signal: AbortSignal | undefined) {
  const kill = () => container.kill(9);
  signal?.addEventListener('abort', kill, { once: true });
  if (signal?.aborted) kill();
  try {
    return await container.exited;
  } finally {
    signal?.removeEventListener('abort', kill);
  }
}

// missingInImage lists the targets, and their parents, that the image lacks:
// the child creates them as mount points in the upper dir.
function missingInImage(layers: string[], targets: string[]): string[] {
  const tree = new MergedTree(layers);
  const missing = new Set<string>();
  for (const target of targets) {
    for (let path = posix.normalize(target); path !== '/' && path !== '.'; path = posix.dirname(path)) {
      if (tree.lstat(path)) break;
      missing.add(path.slice(1));
    }
  }
  // Deepest first, so a parent is empty by the time it is checked.
  return [...missing].sort((a, b) => b.length - a.length);
}
