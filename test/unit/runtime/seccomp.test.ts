import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DOCKER_DEFAULT_PROFILE, DOCKER_DEFAULT_SHA256, cachedProgram, quickHash, reduceProfile } from '../../../src/runtime/seccomp';
import { DEFAULT_CAPABILITIES } from '../../../src/runtime/security';
import { addon } from '../../../src/sys/addon';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;

function actionsOf(caps: string[], name: string): number[] {
  return reduceProfile(DOCKER_DEFAULT_PROFILE, caps).rules.filter((rule) => rule.name === name).map((rule) => rule.action);
}

test("Docker's default profile: errno(EPERM) by default, x86_64 with x86 and x32", (t) => {
  const input = reduceProfile(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES);
  t.is(input.defaultAction, EPERM);
  t.deepEqual(input.arches, ['x86_64', 'x86', 'x32']);
  t.deepEqual(actionsOf(DEFAULT_CAPABILITIES, 'read'), [ALLOW]);
});

test('capability rules: mount, unshare and bpf only with CAP_SYS_ADMIN; clone3 ENOSYS without it', (t) => {
  t.deepEqual(actionsOf(DEFAULT_CAPABILITIES, 'mount'), []);
  t.deepEqual(actionsOf(DEFAULT_CAPABILITIES, 'unshare'), []);
  t.deepEqual(actionsOf(DEFAULT_CAPABILITIES, 'clone3'), [0x00050000 | 38]);
  const admin = [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'];
  t.deepEqual(actionsOf(admin, 'mount'), [ALLOW]);
  t.deepEqual(actionsOf(admin, 'clone3'), [ALLOW]);
  t.deepEqual(actionsOf(DEFAULT_CAPABILITIES, 'reboot'), []);
  t.deepEqual(actionsOf([...DEFAULT_CAPABILITIES, 'CAP_SYS_BOOT'], 'reboot'), [ALLOW]);
});

test('argument filters: clone only without CLONE_NEW* flags unless CAP_SYS_ADMIN; personality to its listed values', (t) => {
  const clone = reduceProfile(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES).rules.filter((rule) => rule.name === 'clone');
  t.deepEqual(clone.map((rule) => rule.args), [[{ index: 0, op: 7, value: '2114060288', valueTwo: '0' }]]);
  const personality = reduceProfile(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES).rules.filter((rule) => rule.name === 'personality');
  t.deepEqual(personality.map((rule) => rule.args[0].value), ['0', '8', '131072', '131080', '4294967295']);
});

test('arch rules: arch_prctl and modify_ldt are in on amd64; other arches\' calls are not', (t) => {
  t.deepEqual(actionsOf(DEFAULT_CAPABILITIES, 'arch_prctl'), [ALLOW]);
  t.deepEqual(actionsOf(DEFAULT_CAPABILITIES, 'modify_ldt'), [ALLOW]);
  t.deepEqual(actionsOf(DEFAULT_CAPABILITIES, 'riscv_flush_icache'), []);
});

test('a user profile: name or names, errnoRet, two conditions on one argument become two rules (runc)', (t) => {
  const input = reduceProfile({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }, { index: 1, value: 15, op: 'SCMP_CMP_EQ' }] },
      { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
    ],
  }, DEFAULT_CAPABILITIES);
  t.is(input.defaultAction, ALLOW);
  t.deepEqual(input.rules.map((rule) => [rule.name, rule.action, rule.args.length]), [['mkdir', 0x00050000 | 13, 0], ['kill', EPERM, 1], ['kill', EPERM, 1]]);
  t.throws(() => reduceProfile({ defaultAction: 'SCMP_ACT_NOPE' }, []), { message: 'seccomp profile: unsupported action "SCMP_ACT_NOPE"' });
  t.throws(() => reduceProfile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }] }, []),
    { message: /both 'architectures' and 'archMap'/ });
});

test('the addon compiles the default profile to a BPF program that checks the arch first', (t) => {
  const program = addon().compileSeccomp(reduceProfile(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES));
  t.is(program.length % 8, 0);
  t.true(program.length / 8 > 300);
  // ld [4]: seccomp_data.arch, as libseccomp's programs start.
  t.is(program.readUInt16LE(0), 0x20);
  t.is(program.readUInt32LE(4), 4);
});

// runFilter runs a classic BPF seccomp program on seccomp_data {nr, arch, args 0} as the kernel would:
// the action it returns and how many instructions it ran through.
function runFilter(program: Buffer, nr: number, arch: number): { action: number; steps: number } {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  for (let pc = 0, steps = 1; ; pc++, steps++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program[pc * 8 + 2];
    const jf = program[pc * 8 + 3];
    const k = program.readUInt32LE(pc * 8 + 4);
    const src = code & 0x08 ? x : k;
    switch (code & 0x07) {
      case 0x00: a = code === 0x20 ? data.readUInt32LE(k) : code === 0x60 ? mem[k] : code === 0x00 ? k : a; break; // ld
      case 0x01: x = code === 0x61 ? mem[k] : k; break; // ldx
      case 0x02: mem[k] = a; break; // st
      case 0x03: mem[k] = x; break; // stx
      case 0x04: // alu
        if ((code & 0xf0) === 0x50) a = (a & src) >>> 0;
        else if ((code & 0xf0) === 0x40) a = (a | src) >>> 0;
        else throw new Error(`alu op ${code.toString(16)}`);
        break;
      case 0x05: { // jmp
        const op = code & 0xf0;
        if (op === 0x00) { pc += k; break; }
        const yes = op === 0x10 ? a === src : op === 0x20 ? a > src : op === 0x30 ? a >= src : (a & src) !== 0;
        pc += yes ? jt : jf;
        break;
      }
      case 0x06: return { action: k, steps }; // ret
      case 0x07: if (code === 0x07) x = a; else a = x; break; // misc: tax, txa
    }
  }
}

test('the default profile compiles to a binary tree: no syscall runs through more than a few dozen instructions', (t) => {
  const program = addon().compileSeccomp(reduceProfile(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES));
  const X86_64 = 0xc000003e;
  const ALLOW = 0x7fff0000;
  const steps: number[] = [];
  for (let nr = 0; nr < 460; nr++) steps.push(runFilter(program, nr, X86_64).steps);
  // A list of some 300 allowed syscalls checked one by one runs through hundreds for the last ones.
  t.true(Math.max(...steps) < 60, `longest path ${Math.max(...steps)} instructions`);
  // The same decisions: read and write allowed, kexec_load (246) and an unknown number refused.
  t.is(runFilter(program, 0, X86_64).action, ALLOW);
  t.is(runFilter(program, 1, X86_64).action, ALLOW);
  t.not(runFilter(program, 246, X86_64).action, ALLOW);
  t.not(runFilter(program, 459, X86_64).action, ALLOW);
});

test('the builtin profile\'s cache key is the digest of the profile file itself: an edit of the file gives programs a new key', (t) => {
  const file = readFileSync(join(__dirname, '../../../../src/runtime/seccomp-profiles/docker-default.json'));
  t.is(createHash('sha256').update(file).digest('hex'), DOCKER_DEFAULT_SHA256, 'update DOCKER_DEFAULT_SHA256 to the file\'s digest');
});

test('the program cache holds each program with its inputs: a file of other inputs under the same name is compiled over', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-seccomp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const user = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO' }] });
  const builtin = cachedProgram(dir, 'inputs A', 'builtin', DEFAULT_CAPABILITIES);
  t.deepEqual(cachedProgram(dir, 'inputs A', 'builtin', DEFAULT_CAPABILITIES), builtin, 'read back from the file');
  // As if the two inputs' names collided: the file named for B holds A's inputs and program.
  renameSync(join(dir, `${quickHash('inputs A')}.bpf`), join(dir, `${quickHash('inputs B')}.bpf`));
  const compiled = addon().compileSeccomp(reduceProfile(JSON.parse(user), DEFAULT_CAPABILITIES));
  t.notDeepEqual(compiled, builtin);
  t.deepEqual(cachedProgram(dir, 'inputs B', user, DEFAULT_CAPABILITIES), compiled);
  t.deepEqual(cachedProgram(dir, 'inputs B', user, DEFAULT_CAPABILITIES), compiled, 'and B\'s own file replaced it');
  t.is(readFileSync(join(dir, `${quickHash('inputs B')}.bpf`)).readUInt32LE(0), 'inputs B'.length);
});
