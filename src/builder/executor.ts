// The build loop: stages in order, each instruction a step that is either
// found in the cache or run (RUN in a container, COPY/ADD straight into a
// layer dir, the rest on the config), then committed as an image whose
// parent is the previous step's, as the classic builder does.
import { randomBytes } from 'node:crypto';

import { DockerfileError, NboxError } from '../errors';
import { expandWord, expandWords, expansionBudget } from '../dockerfile/expand';
import { expandMount } from '../dockerfile/run-mount';
import type { AddInstruction, CopyInstruction, Instruction, RunInstruction } from '../dockerfile/instruction-types';
import { parseDockerfile, type Dockerfile, type Stage } from '../dockerfile/stages';
import type { HistoryEntry, ImageConfig } from '../image/oci';
import type { ImageRecord } from '../image/images';
import type { SealedLayer } from '../image/layers';
import { HOST_PLATFORM, formatPlatform } from '../image/platform';
import type { Store } from '../image/store';
import { BuildCache, cacheKey } from './cache';
import { applyCopy, copyDigest, planCopy, planWorkdir, type CopyPlan, type CopyRequest } from './copy';
import type { IgnoreMatcher } from './dockerignore';
import type { BuildOutput } from './output';
import { baseName, planBuild, stageRef } from './plan';
import { checkInterrupted } from './interrupt';
import { mountKeyInputs, prepareRunMounts, type RootfsSource } from './run-mounts';
import { PROXY_ARGS, runArgv, runEnv } from './run-command';
import { runStep } from './run-step';
import { applyMetadata, baseConfig, emptyConfig, envMap, expandOptions, type StageState } from './stage-state';
import { isoTime } from '../iso-time';


/** BuildRequest is a Dockerfile with its context, ready to build. */
export interface BuildRequest {
  dockerfileText: string;
  /** Shown in errors as FILE:LINE. */
  dockerfileName: string;
  contextDir: string;
  ignore: IgnoreMatcher;
  buildArgs: Map<string, string>;
  target?: string;
  labels: Record<string, string>;
  noCache: boolean;
  /** Build secrets for RUN --mount=type=secret: id → host file. */
  secrets: Map<string, string>;
  /** SSH agents for RUN --mount=type=ssh: id → host agent socket. */
  sshAgents: Map<string, string>;
  /** RUN's network unless RUN --network says otherwise. */
  network: 'host' | 'none';
  output: BuildOutput;
  /** Where RUN output goes: the caller's stdout/stderr, or /dev/null for -q. */
  stdio: [number, number, number];
  /** RUN's stdout and stderr as chunks instead of stdio's (the Engine API's build stream). */
  runOutput?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  /** Fetches an image that FROM, COPY --from or a mount names and the store lacks
   * (the caller's registry pull); without it such a name is an error. */
  pullImage?: (ref: string) => Promise<void>;
  /** --pull: fetch every base image even when the store has it. */
  alwaysPull?: boolean;
}

/** runBuild builds the target stage and returns its image ID (not yet tagged). */
export async function runBuild(store: Store, request: BuildRequest): Promise<string> {
  const dockerfile = parseDockerfile(request.dockerfileText, { file: request.dockerfileName, platform: formatPlatform(HOST_PLATFORM) });
  const plan = planBuild(dockerfile, request.buildArgs, request.target);
  const builder = new Builder(store, request, dockerfile, plan.totalSteps, plan.globalArgs);
  let final: StageState | undefined;
  for (const stage of plan.stages) final = await builder.buildStage(stage);
  let state = final!;
  if (Object.keys(request.labels).length > 0) state = await builder.addLabels(state, request.labels);
  const unused = [...request.buildArgs.keys()].filter((key) => !builder.consumedArgs.has(key) && !PROXY_ARGS.has(key));
  if (unused.length > 0) request.output.warning(`One or more build-args [${unused.join(' ')}] were not consumed`);
  if (!state.imageId) throw new NboxError('ERR_NBOX_BUILD', 'no image was produced: the target stage is an empty FROM scratch');
  return state.imageId;
}

/** Step is one instruction, its cache key parts, and how to produce its result on a miss. */
interface StepWork {
  createdBy: string;
  inputs?: string[];
  /** Prints ---> Running in / Removing intermediate container, as for steps the classic builder ran in a container. */
  inContainer: boolean;
  produce(containerId: string): Promise<{ body: ImageConfig['config']; author?: string; layer?: SealedLayer }>;
  /** release frees what planning the step fetched (ADD's downloads and checkouts), hit or miss. */
  release?(): Promise<void>;
}

class Builder {
  readonly consumedArgs = new Set<string>();
  private readonly cache: BuildCache;
  private readonly stageResults = new Map<number, StageState>();
  private stepNumber = 0;
  private currentStage!: Stage;

  constructor(
    private readonly store: Store,
    private readonly request: BuildRequest,
    private readonly dockerfile: Dockerfile,
    private readonly totalSteps: number,
    private readonly globalArgs: Map<string, string>,
  ) {
    this.cache = new BuildCache(store);
  }

  async buildStage(stage: Stage): Promise<StageState> {
    this.currentStage = stage;
    let state = await this.from(stage);
    for (const instruction of stage.instructions) {
      this.announce(instruction.stepText);
      state = await this.located(instruction.startLine, () => this.step(state, instruction));
    }
    this.stageResults.set(stage.index, state);
    return state;
  }

  async addLabels(state: StageState, labels: Record<string, string>): Promise<StageState> {
    const body = structuredClone(state.config.config);
    body.Labels = { ...(body.Labels ?? {}), ...labels };
    const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ');
    return this.commit(state, { createdBy: `/bin/sh -c #(nop)  LABEL ${text}`, inContainer: false, produce: async () => ({ body }) }, true);
  }

  private announce(text: string): void {
    this.stepNumber += 1;
    this.request.output.step(this.stepNumber, this.totalSteps, text);
  }

  private async from(stage: Stage): Promise<StageState> {
    this.announce(stage.from.stepText);
    const name = baseName(stage, this.globalArgs, this.dockerfile.escapeChar);
    const state = await this.located(stage.from.startLine, async (): Promise<StageState> => {
      const fromStage = stageRef(this.dockerfile.stages, stage.index, name);
      const parent = fromStage && fromStage !== stage ? this.stageResults.get(fromStage.index) : undefined;
      if (parent) return { ...parent, args: new Map(), cmdSetInStage: false, budget: expansionBudget() };
      const base = { args: new Map<string, string>(), cmdSetInStage: false, escapeChar: this.dockerfile.escapeChar, budget: expansionBudget() };
      if (name === 'scratch') return { ...base, imageId: '', config: emptyConfig(), layerDirs: [] };
      const image = await this.baseImage(name, this.request.alwaysPull ?? false);
      return { ...base, imageId: image.id, config: image.config, layerDirs: await this.store.layers.dirs(image.config) };
    });
    if (state.imageId) this.request.output.stepResult(state.imageId);
    // The base's ONBUILD triggers run now, and the new image does not keep them.
    return this.onBuildTriggers(stage, state.config.config.OnBuild ?? [], { ...state, config: baseConfig(state.config) });
  }

  private async onBuildTriggers(stage: Stage, triggers: string[], state: StageState): Promise<StageState> {
    if (triggers.length === 0) return state;
    this.request.output.note(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'}`);
    for (const trigger of triggers) {
      const [instruction] = parseDockerfile(`FROM scratch\n${trigger}\n`).stages[0].instructions;
      state = await this.located(stage.from.startLine, () => this.step(state, instruction));
    }
    return state;
  }

  private async step(state: StageState, instruction: Instruction): Promise<StageState> {
    checkInterrupted(this.request.signal);
    switch (instruction.kind) {
      case 'ARG':
        return this.arg(state, instruction);
      case 'RUN':
        return this.commit(state, await this.runWork(state, instruction));
      case 'COPY':
      case 'ADD': {
        const work = await this.copyWork(state, instruction);
        try {
          return await this.commit(state, work);
        } finally {
          await work.release?.();
        }
      }
      case 'CMD': {
        const next = await this.commit(state, this.metadataWork(state, instruction));
        return { ...next, cmdSetInStage: true };
      }
      case 'WORKDIR':
        return this.commit(state, this.workdirWork(state, instruction));
      default:
        return this.commit(state, this.metadataWork(state, instruction));
    }
  }

  private async arg(state: StageState, instruction: Extract<Instruction, { kind: 'ARG' }>): Promise<StageState> {
    const args = new Map(state.args);
    const env = envMap(state);
    for (const { key, defaultValue } of instruction.args) {
      this.consumedArgs.add(key);
      const value = this.request.buildArgs.get(key) ?? (defaultValue !== undefined
        ? expandWord(defaultValue, env, expandOptions(state, instruction.startLine))
        : this.globalArgs.get(key));
      if (value !== undefined) args.set(key, value);
    }
    const names = instruction.args.map((a) => (a.defaultValue === undefined ? a.key : `${a.key}=${a.defaultValue}`)).join(' ');
    const next = { ...state, args };
    return this.commit(next, { createdBy: `/bin/sh -c #(nop)  ARG ${names}`, inContainer: true, produce: async () => ({ body: state.config.config }) });
  }

  private metadataWork(state: StageState, instruction: Exclude<Instruction, RunInstruction | CopyInstruction | AddInstruction | { kind: 'ARG' }>): StepWork {
    const result = applyMetadata(state, instruction);
    return { createdBy: result.createdBy, inContainer: true, produce: async () => result };
  }

  // WORKDIR makes its directory, as Docker does (BuildKit: owned by the USER in effect), in a layer of its
  // own when the image lacks it; so a later `COPY f /dir` lands inside it.
  private workdirWork(state: StageState, instruction: Extract<Instruction, { kind: 'WORKDIR' }>): StepWork {
    const result = applyMetadata(state, instruction);
    return {
      createdBy: result.createdBy,
      inContainer: true,
      produce: async () => {
        const plan = await planWorkdir(result.body.WorkingDir!, state.config.config.User ?? '', state.layerDirs);
        return plan ? { ...result, layer: await this.planLayer(plan) } : result;
      },
    };
  }

  // planLayer writes a COPY-style plan into a new layer.
  private async planLayer(plan: CopyPlan): Promise<SealedLayer> {
    const layer = await this.store.layers.begin();
    try {
      await applyCopy(plan, layer.dir);
      return await layer.seal();
    } catch (err) {
      await layer.abort();
      throw err;
    }
  }

  private async runWork(state: StageState, instruction: RunInstruction): Promise<StepWork> {
    const env = envMap(state);
    const word = (text: string) => expandWord(text, env, expandOptions(state, instruction.startLine));
    const runMounts = instruction.mounts.map((mount) => expandMount(mount, word));
    const from = new Map<string, RootfsSource>();
    for (const mount of runMounts) {
      if ((mount.type === 'bind' || mount.type === 'cache') && mount.from !== undefined && !from.has(mount.from)) {
        from.set(mount.from, await this.rootfsOf(mount.from, 'invalid mount from value'));
      }
    }
    const argv = runArgv(state, instruction);
    // The classic builder records build args in scope as `|N K=V ...`: part of the cache key, never of the image.
    const argPairs = [...state.args].filter(([key]) => !PROXY_ARGS.has(key)).map(([k, v]) => `${k}=${v}`);
    const createdBy = `${argPairs.length ? `|${argPairs.length} ${argPairs.join(' ')} ` : ''}${argv.join(' ')}`;
    const network = instruction.network === 'default' ? this.request.network : instruction.network;
    const { contextDir, ignore, secrets, sshAgents } = this.request;
    return {
      createdBy,
      inputs: runMounts.length ? await mountKeyInputs(runMounts, from, contextDir, ignore) : undefined,
      inContainer: true,
      produce: async (containerId) => {
        const scratch = await this.store.root.makeTempDir('mounts');
        const mounts = await prepareRunMounts(this.store, runMounts, { contextDir, ignore, secrets, sshAgents, env: runEnv(state, this.request.buildArgs), from, scratch })
          .catch(async (err: unknown) => {
            await this.store.root.removeTree(scratch);
            throw err;
          });
        try {
          const layer = await runStep(this.store, {
            layers: state.layerDirs,
            argv,
            env: mounts.env,
            user: state.config.config.User ?? '',
            workdir: state.config.config.WorkingDir || '/',
            network,
            containerId,
            stdio: this.request.stdio,
            runOutput: this.request.runOutput,
            signal: this.request.signal,
            mounts: mounts.mounts,
          });
          return { body: state.config.config, layer };
        } finally {
          await mounts.release();
          await this.store.root.removeTree(scratch);
        }
      },
    };
  }

  private async copyWork(state: StageState, instruction: CopyInstruction | AddInstruction): Promise<StepWork> {
    const env = envMap(state);
    const options = expandOptions(state, instruction.startLine);
    const word = (text: string) => expandWord(text, env, options);
    const from = instruction.kind === 'COPY' && instruction.from !== undefined ? await this.rootfsOf(instruction.from, 'invalid from flag value') : undefined;
    // ADD's downloads and checkouts stay here until the layer is written.
    const scratch = instruction.kind === 'ADD' ? await this.store.root.makeTempDir('add') : undefined;
    const release = async () => {
      if (scratch) await this.store.root.removeTree(scratch);
    };
    const request: CopyRequest = {
      sources: [
        ...instruction.sources.flatMap((s) => (instruction.form === 'exec' ? [word(s)] : expandWords(s, env, options))),
        ...instruction.heredocs.map((h) => h.name),
      ],
      dest: word(instruction.dest),
      workdir: state.config.config.WorkingDir || '/',
      from: from ? { kind: 'rootfs', layers: from.layers } : { kind: 'context', dir: this.request.contextDir, ignore: this.request.ignore },
      chown: instruction.chown === undefined ? undefined : word(instruction.chown),
      chmod: instruction.chmod === undefined ? undefined : word(instruction.chmod),
      isAdd: instruction.kind === 'ADD',
      exclude: instruction.excludes.map(word),
      heredocs: instruction.heredocs.map((h) => ({ name: h.name, content: h.expand ? expandWord(h.content, env, { ...options, plainQuotes: true }) : h.content })),
      parents: instruction.kind === 'COPY' && instruction.parents,
      ...(instruction.kind === 'ADD'
        ? { checksum: instruction.checksum === undefined ? undefined : word(instruction.checksum), unpack: instruction.unpack, keepGitDir: instruction.keepGitDir, sshAgent: this.request.sshAgents.get('default'), scratch }
        : {}),
      signal: this.request.signal,
    };
    const { plan, digest } = await planCopy(request, state.layerDirs)
      .then(async (plan) => ({ plan, digest: await copyDigest(plan) }))
      .catch(async (err: unknown) => {
        await release();
        throw err;
      });
    const dest = word(instruction.dest);
    return {
      createdBy: `/bin/sh -c #(nop) ${instruction.kind} ${digest.replace('sha256:', 'multi:')} in ${dest} `,
      inputs: [digest],
      inContainer: false,
      release,
      produce: async () => ({ body: state.config.config, layer: await this.planLayer(plan) }),
    };
  }

  // baseImage finds an image in the store, pulling it when it is missing (or always, for --pull).
  private async baseImage(ref: string, alwaysPull: boolean): Promise<ImageRecord> {
    const pull = this.request.pullImage;
    if (pull && alwaysPull) await pull(ref);
    try {
      return await this.store.images.resolve(ref);
    } catch (err) {
      if (!pull || alwaysPull || !(err instanceof NboxError && err.code === 'ERR_NBOX_NO_SUCH_IMAGE')) throw err;
    }
    try {
      await pull(ref);
    } catch (err) {
      throw new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `No such image: ${ref}, and pulling it failed: ${(err as Error).message}`, { cause: err });
    }
    return this.store.images.resolve(ref);
  }

  // COPY --from and RUN --mount from= name an earlier stage (by name or index) or an image.
  private async rootfsOf(ref: string, what: string): Promise<RootfsSource> {
    const stage = stageRef(this.dockerfile.stages, this.currentStage.index, ref);
    if (stage) {
      const result = this.stageResults.get(stage.index);
      if (!result) throw new NboxError('ERR_NBOX_BUILD', `${what} ${ref}: stage not built`);
      return { imageId: result.imageId, layers: result.layerDirs };
    }
    const image = await this.baseImage(ref, false).catch((err: unknown) => {
      if (!(err instanceof NboxError && err.code === 'ERR_NBOX_NO_SUCH_IMAGE')) throw err;
      const pullFailure = (err.cause as Error | undefined)?.message;
      throw new NboxError('ERR_NBOX_BUILD', `${what} ${ref}: no stage or image of that name${pullFailure ? ` (pulling it failed: ${pullFailure})` : ''}`);
    });
    return { imageId: image.id, layers: await this.store.layers.dirs(image.config) };
  }

  private async commit(state: StageState, work: StepWork, silent = false): Promise<StageState> {
    const key = cacheKey({ parent: state.imageId, instruction: work.createdBy, inputs: work.inputs });
    if (!this.request.noCache) {
      const hit = await this.cache.lookup(key);
      if (hit) {
        if (!silent) {
          this.request.output.usingCache();
          this.request.output.stepResult(hit.id);
        }
        return { ...state, imageId: hit.id, config: hit.config, layerDirs: await this.store.layers.dirs(hit.config) };
      }
    }
    checkInterrupted(this.request.signal);
    const containerId = randomBytes(32).toString('hex');
    if (work.inContainer && !silent) this.request.output.runningIn(containerId);
    const result = await work.produce(containerId);
    // Interrupted while producing (a COPY of many files): nothing is committed.
    if (this.request.signal?.aborted) {
      await result.layer?.discard();
      checkInterrupted(this.request.signal);
    }
    const created = isoTime();
    const history: HistoryEntry = { created, created_by: work.createdBy };
    if (!result.layer) history.empty_layer = true;
    const config: ImageConfig = {
      ...state.config,
      created,
      config: result.body,
      rootfs: { type: 'layers', diff_ids: result.layer ? [...state.config.rootfs.diff_ids, result.layer.diffId] : state.config.rootfs.diff_ids },
      history: [...(state.config.history ?? []), history],
    };
    if (result.author !== undefined) config.author = result.author;
    const id = await this.store.images.commit(result.layer ? [result.layer] : [], Buffer.from(JSON.stringify(config)), [], state.imageId || undefined);
    await this.cache.record(key, id);
    if (work.inContainer && !silent) this.request.output.removingIntermediate(containerId);
    if (!silent) this.request.output.stepResult(id);
    return { ...state, imageId: id, config, layerDirs: await this.store.layers.dirs(config) };
  }

  // Errors of a step carry its Dockerfile line; a DockerfileError already does.
  private async located<T>(line: number, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DockerfileError || !(err instanceof NboxError)) throw err;
      throw Object.assign(new DockerfileError({ file: this.request.dockerfileName, line, message: err.message }), { cause: err });
    }
  }
}
