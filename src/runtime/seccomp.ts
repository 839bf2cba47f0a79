// Seccomp profiles in Docker's JSON format (Docker's own default among them,
// seccomp-profiles/docker-default.json) reduced for one container as moby's
// daemon reduces them (includes and excludes by capability, architecture and
// kernel; the archMap's entry for this machine), then compiled to BPF by the
// addon with libseccomp, as runc compiles them. The program is cached on disk
// by its inputs: compiling Docker's profile costs more than a run can spare.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';

import { NboxError } from '../errors';
import { HOST_PLATFORM } from '../image/platform';
import { addon, type SeccompRule } from '../sys/addon';
import DOCKER_DEFAULT from './seccomp-profiles/docker-default.json';

/** SeccompProfile is Docker's profile format (moby profiles/seccomp). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  syscalls?: SeccompSyscall[] | null;
}

interface SeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface SeccompSyscall {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

/** DOCKER_DEFAULT_PROFILE is Docker's default profile (see seccomp-profiles/NOTICE). */
export const DOCKER_DEFAULT_PROFILE = DOCKER_DEFAULT as SeccompProfile;

/** SECCOMP_ARCHES are libseccomp's tokens of the architectures nbox runs on (image/platform.ts). */
export const SECCOMP_ARCHES: Record<string, string> = { amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' };
/** GO_ARCH and NATIVE_ARCH name this machine as profiles do: Go's runtime.GOARCH (the OCI name) and libseccomp's token. */
const GO_ARCH = HOST_PLATFORM.architecture;
const NATIVE_ARCH = SECCOMP_ARCHES[GO_ARCH];

/** The kernel's SECCOMP_RET_* values, which libseccomp's actions are. */
const EPERM = 1;
function actionValue(name: string, errnoRet: number | undefined): number {
  switch (name) {
    case 'SCMP_ACT_ALLOW': return 0x7fff0000;
    case 'SCMP_ACT_ERRNO': return (0x00050000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return 0;
    case 'SCMP_ACT_KILL_PROCESS': return 0x80000000;
    case 'SCMP_ACT_TRAP': return 0x00030000;
    case 'SCMP_ACT_TRACE': return (0x7ff00000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG': return 0x7ffc0000;
    default: throw new NboxError('ERR_NBOX_USAGE', `seccomp profile: unsupported action "${name}"`);
  }
}

/** libseccomp's scmp_compare. */
const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};

function kernelAtLeast(min: string): boolean {
  const [kernel, major] = release().split(/[.-]/).map(Number);
  const [wantKernel, wantMajor] = min.split('.').map(Number);
  return kernel > wantKernel || (kernel === wantKernel && major >= (wantMajor ?? 0));
}

/** CompiledInput is a profile reduced to what the addon compiles. */
export interface CompiledInput {
  defaultAction: number;
  arches: string[];
  rules: SeccompRule[];
}

/** reduceProfile is moby's setupSeccomp for a container with these capabilities (its bounding set),
 * then runc's rule expansion: one rule per name, conditions on one argument each split into rules. */
export function reduceProfile(profile: SeccompProfile, caps: string[]): CompiledInput {
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new NboxError('ERR_NBOX_USAGE', "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  if (typeof profile.defaultAction !== 'string') throw new NboxError('ERR_NBOX_USAGE', 'seccomp profile: defaultAction missing');
  const archTokens = [
    ...(profile.architectures ?? []),
    ...(profile.archMap ?? []).filter((entry) => entry.architecture === NATIVE_ARCH).flatMap((entry) => [entry.architecture, ...(entry.subArchitectures ?? [])]),
  ];
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const rules: SeccompRule[] = [];
  for (const call of profile.syscalls ?? []) {
    if (call.name && call.names?.length) throw new NboxError('ERR_NBOX_USAGE', "use either 'name' or 'names'");
    const { includes, excludes } = call;
    if (excludes?.arches?.includes(GO_ARCH)) continue;
    if (excludes?.caps?.some((cap) => caps.includes(cap))) continue;
    if (excludes?.minKernel && kernelAtLeast(excludes.minKernel)) continue;
    if (includes?.arches?.length && !includes.arches.includes(GO_ARCH)) continue;
    if (includes?.caps?.some((cap) => !caps.includes(cap))) continue;
    if (includes?.minKernel && !kernelAtLeast(includes.minKernel)) continue;
    const action = actionValue(call.action, call.errnoRet);
    // libseccomp refuses a rule that only repeats the default; runc leaves it out.
    if (action === defaultAction) continue;
    const args = (call.args ?? []).map((arg) => {
      const op = OPERATORS[arg.op];
      if (op === undefined) throw new NboxError('ERR_NBOX_USAGE', `seccomp profile: unknown operator "${arg.op}"`);
      return { index: arg.index, op, value: String(BigInt(arg.value)), valueTwo: String(BigInt(arg.valueTwo ?? 0)) };
    });
    const perIndex = new Set(args.map((arg) => arg.index));
    // runc: two conditions on one argument cannot be ANDed by libseccomp; each becomes a rule of its own (OR).
    const argSets = perIndex.size < args.length ? args.map((arg) => [arg]) : [args];
    for (const name of call.names ?? (call.name ? [call.name] : [])) {
      for (const set of argSets) rules.push({ name, action, args: set });
    }
  }
  return { defaultAction, arches: [...new Set(archTokens)].map((token) => token.replace(/^SCMP_ARCH_/, '').toLowerCase()), rules };
}

/** seccompCacheDir is where a store keeps compiled programs (the store is root's alone). */
export function seccompCacheDir(storeRoot: string): string {
  return join(storeRoot, 'cache', 'seccomp');
}

/** parseProfile reads a profile's JSON text (a --security-opt seccomp=FILE, as the CLI compacted it). */
export function parseProfile(text: string): SeccompProfile {
  try {
    return JSON.parse(text) as SeccompProfile;
  } catch (err) {
    throw new NboxError('ERR_NBOX_USAGE', `Decoding seccomp profile failed: ${(err as Error).message}`);
  }
}

/** seccompProgram is the BPF program of a profile ('builtin' is Docker's default) for a container with
 * these capabilities, from the cache under cacheDir when it was compiled before. */
export function seccompProgram(profile: string, caps: string[], cacheDir?: string): Buffer {
  // Everything the program depends on: the profile, the caps, the kernel (minKernel), the format of the reduction
  // and how it compiles (3: binary tree).
  const inputs = `nbox-seccomp 3\0${release()}\0${[...caps].sort().join(',')}\0${profile === 'builtin' ? BUILTIN_INPUT : profile}`;
  // A build's RUN steps (no store path at hand) compile once per process.
  let program = compiled.get(inputs);
  if (!program) {
    program = cacheDir ? cachedProgram(cacheDir, inputs, profile, caps) : compileProgram(profile, caps);
    compiled.set(inputs, program);
  }
  return program;
}

const compiled = new Map<string, Buffer>();

/** DOCKER_DEFAULT_SHA256 is the SHA-256 of seccomp-profiles/docker-default.json, which the seccomp test
 * checks: the builtin profile's part of a program's inputs. Hashing the profile's 13 kB at each run cost
 * half a millisecond of every start (node:crypto costs more to load). */
export const DOCKER_DEFAULT_SHA256 = '536529b665dd0972c37bfb569f5d4ac8a53592e7b00752bc39ff063ca9864c74';
// No user profile (JSON) reads so.
const BUILTIN_INPUT = `builtin sha256:${DOCKER_DEFAULT_SHA256}`;

function compileProgram(profile: string, caps: string[]): Buffer {
  return addon().compileSeccomp(reduceProfile(profile === 'builtin' ? DOCKER_DEFAULT_PROFILE : parseProfile(profile), caps));
}

/** cachedProgram reads the program of these inputs from cacheDir, or compiles and stores it. A cache file
 * is its inputs' length (4 bytes), the inputs, then the program. The file is named by a quick hash of the
 * inputs (node:crypto alone costs a run milliseconds to load); the inputs in it are compared in full, so
 * two inputs that share a name never share a program: the later one compiles. */
export function cachedProgram(cacheDir: string, inputs: string, profile: string, caps: string[]): Buffer {
  const path = join(cacheDir, `${quickHash(inputs)}.bpf`);
  const key = Buffer.from(inputs);
  try {
    const file = readFileSync(path);
    const length = file.readUInt32LE(0);
    if (length === key.length && key.equals(file.subarray(4, 4 + length))) return file.subarray(4 + length);
  } catch {
    // Not compiled yet.
  }
  const program = compileProgram(profile, caps);
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}.tmp`;
    const length = Buffer.alloc(4);
    length.writeUInt32LE(key.length);
    writeFileSync(temp, Buffer.concat([length, key, program]), { mode: 0o600 });
    renameSync(temp, path);
  } catch {
    // A cache that cannot be written only costs the next run a compile.
  }
  return program;
}

/** quickHash is two 32-bit FNV-1a hashes of text's UTF-16 units, as 16 hex digits: a file name, not a check. */
export function quickHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
