// What a stage knows between steps, and the metadata instructions as pure
// functions of it: each returns the next config and its history text.
import { posix } from 'node:path';

import { DockerfileError } from '../errors';
import { expandWord, expandWords, type EscapeChar, type ExpansionBudget } from '../dockerfile/expand';
import type { Instruction } from '../dockerfile/instruction-types';
import type { ImageConfig, ImageConfigBody } from '../image/oci';
import { HOST_PLATFORM } from '../image/platform';
import { DEFAULT_PATH } from '../runtime/env';
import { parseSignal } from '../runtime/stop';

/** DEFAULT_SHELL wraps shell-form commands until SHELL says otherwise. */
export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** StageState is a stage between two steps. */
export interface StageState {
  /** Image ID the stage is at; '' while a `FROM scratch` stage has no step yet. */
  imageId: string;
  config: ImageConfig;
  /** Layer dirs of config, topmost first. */
  layerDirs: string[];
  /** ARGs declared in this stage, with their values (unset ones absent). */
  args: Map<string, string>;
  /** CMD was set in this stage, so a later ENTRYPOINT keeps it. */
  cmdSetInStage: boolean;
  escapeChar: EscapeChar;
  /** What variable expansion may still add to this stage's words. */
  budget: ExpansionBudget;
}

/** expandOptions are how a stage expands the words of the instruction at line. */
export function expandOptions(state: StageState, line: number): { line: number; escapeChar: EscapeChar; budget: ExpansionBudget } {
  return { line, escapeChar: state.escapeChar, budget: state.budget };
}

/** emptyConfig is `FROM scratch`'s config. */
export function emptyConfig(): ImageConfig {
  return { architecture: HOST_PLATFORM.architecture, os: HOST_PLATFORM.os, config: { Env: [`PATH=${DEFAULT_PATH}`] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
}

/** baseConfig starts a stage from a parent image: its config, minus ONBUILD triggers (they run now). */
export function baseConfig(parent: ImageConfig): ImageConfig {
  const config = structuredClone(parent);
  config.config ??= {};
  if (!config.config.Env?.some((e) => e.startsWith('PATH='))) config.config.Env = [`PATH=${DEFAULT_PATH}`, ...(config.config.Env ?? [])];
  delete config.config.OnBuild;
  return config;
}

/** envMap is the variables a step expands with: the image's Env, then ARGs not shadowed by ENV. */
export function envMap(state: StageState): Map<string, string> {
  const env = new Map<string, string>();
  for (const [key, value] of state.args) env.set(key, value);
  for (const entry of state.config.config.Env ?? []) {
    const eq = entry.indexOf('=');
    env.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
  }
  return env;
}

/** shellOf is the shell that wraps shell-form commands in this stage. */
export function shellOf(state: StageState): string[] {
  return state.config.config.Shell ?? DEFAULT_SHELL;
}

/** commandOf turns a CMD/ENTRYPOINT/RUN command into argv: exec form as is, shell form wrapped in SHELL. */
export function commandOf(state: StageState, form: 'exec' | 'shell', command: string[]): string[] {
  return form === 'exec' ? command : [...shellOf(state), command.join(' ')];
}

/** MetadataResult is a metadata step's effect. */
export interface MetadataResult {
  body: ImageConfigBody;
  author?: string;
  createdBy: string;
}

type MetadataInstruction = Exclude<Instruction, { kind: 'RUN' | 'COPY' | 'ADD' | 'ARG' | 'ONBUILD' }> | Extract<Instruction, { kind: 'ONBUILD' }>;

/** applyMetadata computes the config after a metadata instruction (every kind but RUN, COPY, ADD and ARG). */
export function applyMetadata(state: StageState, instruction: MetadataInstruction): MetadataResult {
  const body = structuredClone(state.config.config);
  const env = envMap(state);
  const options = expandOptions(state, instruction.startLine);
  const word = (text: string) => expandWord(text, env, options);
  const nop = (text: string) => `/bin/sh -c #(nop)  ${text}`;
  switch (instruction.kind) {
    case 'ENV': {
      // Every value of one ENV sees the variables as they were before the line.
      const values = instruction.pairs.map(({ key, value }) => [word(key), word(value)] as const);
      let list = body.Env ?? [];
      for (const [key, value] of values) {
        const entry = `${key}=${value}`;
        const at = list.findIndex((e) => e === key || e.startsWith(`${key}=`));
        list = at >= 0 ? list.map((e, i) => (i === at ? entry : e)) : [...list, entry];
      }
      body.Env = list;
      return { body, createdBy: nop(`ENV ${values.map(([k, v]) => `${k}=${v}`).join(' ')}`) };
    }
    case 'LABEL': {
      const labels = { ...(body.Labels ?? {}) };
      const shown: string[] = [];
      for (const { key, value } of instruction.pairs) {
        labels[word(key)] = word(value);
        shown.push(`${word(key)}=${word(value)}`);
      }
      body.Labels = labels;
      return { body, createdBy: nop(`LABEL ${shown.join(' ')}`) };
    }
    case 'MAINTAINER':
      return { body, author: instruction.maintainer, createdBy: nop(`MAINTAINER ${instruction.maintainer}`) };
    case 'EXPOSE': {
      const ports = instruction.ports.flatMap((p) => expandWords(p, env, options)).flatMap((p) => exposedPorts(p, instruction.startLine));
      body.ExposedPorts = { ...(body.ExposedPorts ?? {}) };
      for (const port of ports) body.ExposedPorts[port] = {};
      return { body, createdBy: nop(`EXPOSE ${ports.map((p) => p.replace(/\/tcp$/, '')).join(' ')}`) };
    }
    case 'VOLUME': {
      const paths = instruction.paths.flatMap((p) => (instruction.form === 'exec' ? [word(p)] : expandWords(p, env, options)));
      if (paths.some((p) => p.trim() === '')) throw new DockerfileError({ line: instruction.startLine, message: 'VOLUME specified can not be an empty string' });
      body.Volumes = { ...(body.Volumes ?? {}) };
      for (const path of paths) body.Volumes[path] = {};
      return { body, createdBy: nop(`VOLUME [${paths.join(' ')}]`) };
    }
    case 'WORKDIR': {
      const dir = posix.resolve(body.WorkingDir || '/', word(instruction.path));
      body.WorkingDir = dir;
      return { body, createdBy: `/bin/sh -c #(nop) WORKDIR ${dir}` };
    }
    case 'USER':
      body.User = word(instruction.user);
      return { body, createdBy: nop(`USER ${body.User}`) };
    case 'CMD':
      body.Cmd = commandOf(state, instruction.form, instruction.command);
      return { body, createdBy: nop(`CMD ${jsonArgs(body.Cmd)}`) };
    case 'ENTRYPOINT':
      body.Entrypoint = commandOf(state, instruction.form, instruction.command);
      // An inherited CMD was written for another entrypoint (BuildKit's dispatchEntrypoint).
      if (!state.cmdSetInStage) body.Cmd = null;
      return { body, createdBy: nop(`ENTRYPOINT ${jsonArgs(body.Entrypoint)}`) };
    case 'SHELL':
      body.Shell = instruction.shell;
      return { body, createdBy: nop(`SHELL ${jsonArgs(instruction.shell)}`) };
    case 'STOPSIGNAL': {
      const signal = word(instruction.signal);
      // As Docker's signal.ParseSignal: a name with or without SIG, any case, or a number; kept as written.
      try {
        parseSignal(signal);
      } catch {
        throw new DockerfileError({ line: instruction.startLine, message: `Invalid signal: ${signal}` });
      }
      body.StopSignal = signal;
      return { body, createdBy: nop(`STOPSIGNAL ${signal}`) };
    }
    case 'HEALTHCHECK': {
      const { test, intervalNs, timeoutNs, startPeriodNs, startIntervalNs, retries } = instruction;
      body.Healthcheck = { Test: test };
      if (intervalNs) body.Healthcheck.Interval = intervalNs;
      if (timeoutNs) body.Healthcheck.Timeout = timeoutNs;
      if (startPeriodNs) body.Healthcheck.StartPeriod = startPeriodNs;
      if (startIntervalNs) body.Healthcheck.StartInterval = startIntervalNs;
      if (retries) body.Healthcheck.Retries = retries;
      return { body, createdBy: nop(`HEALTHCHECK &{${jsonArgs(test)}}`) };
    }
    case 'ONBUILD':
      body.OnBuild = [...(body.OnBuild ?? []), instruction.expression];
      return { body, createdBy: nop(`ONBUILD ${instruction.expression}`) };
  }
}

/** exposedPorts turns `80`, `53/udp` or `8000-8002/tcp` into ExposedPorts keys. */
function exposedPorts(spec: string, line: number): string[] {
  const match = /^(\d+)(?:-(\d+))?(?:\/(\w+))?$/.exec(spec);
  if (!match) throw new DockerfileError({ line, message: `Invalid containerPort: ${spec}` });
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (first > 65535 || last > 65535 || last < first) throw new DockerfileError({ line, message: `Invalid containerPort: ${spec}` });
  // As BuildKit's nat.ParsePortSpecs: the protocol is matched without case and kept lowercase.
  const protocol = (match[3] ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw new DockerfileError({ line, message: `invalid proto: ${match[3]}` });
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${protocol}`);
}

// The classic builder shows commands in history as Go prints a []string.
function jsonArgs(args: string[] | null | undefined): string {
  return `[${(args ?? []).map((a) => JSON.stringify(a)).join(' ')}]`;
}
