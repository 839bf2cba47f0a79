// Nodes → typed instructions, one union member per instruction, with flags
// validated (BuildKit's instructions/parse.go). Arguments stay unexpanded: the
// executor expands them with the step's env and args (expand.ts); here they are
// only checked for syntax that no value could fix (an unterminated quote, `${}`).

import { DockerfileError } from '../errors';
import { parseDuration } from './duration';
import { checkWordSyntax, expandWord, type EscapeChar } from './expand';
import { parseFlags, type FlagKind, type FlagValues } from './flags';
import { goQuote } from './go-text';
import { parseHeredocWord, type Heredoc, type Node } from './parser';
import type {
  AddInstruction,
  ArgDeclaration,
  ArgInstruction,
  CopyInstruction,
  CopySources,
  FromInstruction,
  HealthcheckInstruction,
  HeredocFile,
  Instruction,
  InstructionBase,
  KeyValue,
  OnbuildInstruction,
  OnbuildTrigger,
  RunInstruction,
  ShellInstruction,
  VolumeInstruction,
} from './instruction-types';
import { expandMount, parseMount } from './run-mount';

export type * from './instruction-types';

/** toInstruction types one node; any problem is a DockerfileError at the node's first line. */
export function toInstruction(node: Node, escapeChar: EscapeChar): FromInstruction | Instruction {
  return new Typer(node, escapeChar).type();
}

/** checkPlatform accepts a FROM's platform when it is the one the caller builds for (`os/arch`, given by
 * the caller: this module knows no host), that platform's bare architecture, or empty. */
export function checkPlatform(platform: string, buildPlatform: string, line: number): void {
  const wanted = platform.toLowerCase();
  if (wanted !== '' && wanted !== buildPlatform && wanted !== buildPlatform.slice(buildPlatform.indexOf('/') + 1)) {
    throw new DockerfileError({ line, message: `unsupported platform ${goQuote(platform)}: nbox builds for ${buildPlatform} only` });
  }
}

// The flags each instruction accepts; any other flag is an error naming the instruction.
const KNOWN_FLAGS: Readonly<Record<string, Readonly<Record<string, FlagKind>>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', exclude: 'strings', checksum: 'string', 'keep-git-dir': 'bool', unpack: 'bool' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};
const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;
const NO_VARIABLES: ReadonlyMap<string, string> = new Map();
const MINIMUM_INTERVAL_NS = 1e6;

// Typer holds one node while it is typed, so each instruction's parser reads like BuildKit's parseX(req).
class Typer {
  private readonly line: number;
  private readonly flags: FlagValues;

  constructor(
    private readonly node: Node,
    private readonly escapeChar: EscapeChar,
  ) {
    this.line = node.startLine;
    this.flags = parseFlags(node.keyword, node.flags, KNOWN_FLAGS[node.keyword] ?? {}, this.line);
  }

  type(): FromInstruction | Instruction {
    switch (this.node.keyword) {
      case 'FROM':
        return this.from();
      case 'RUN':
        return this.run();
      case 'CMD':
      case 'ENTRYPOINT':
        return { ...this.base(), kind: this.node.keyword, command: this.commandLine() };
      case 'SHELL':
        return this.shell();
      case 'ENV':
      case 'LABEL':
        return { ...this.base(), kind: this.node.keyword, pairs: this.keyValues(this.node.keyword) };
      case 'ARG':
        return this.arg();
      case 'COPY':
        return this.copy();
      case 'ADD':
        return this.add();
      case 'WORKDIR':
        return { ...this.base(), kind: 'WORKDIR', path: this.checked(this.exactlyOne()) };
      case 'USER':
        return { ...this.base(), kind: 'USER', user: this.checked(this.exactlyOne()) };
      case 'MAINTAINER':
        return { ...this.base(), kind: 'MAINTAINER', maintainer: this.exactlyOne() };
      case 'STOPSIGNAL':
        return { ...this.base(), kind: 'STOPSIGNAL', signal: this.checked(this.exactlyOne()) };
      case 'EXPOSE':
        return { ...this.base(), kind: 'EXPOSE', ports: this.atLeastOne().map((port) => this.checked(port)) };
      case 'VOLUME':
        return this.volume();
      case 'HEALTHCHECK':
        return this.healthcheck();
      case 'ONBUILD':
        return this.onbuild();
      default:
        throw this.error(`unknown instruction: ${this.node.keyword}`);
    }
  }

  private from(): FromInstruction {
    const args = this.node.args;
    const hasName = args.length === 3 && args[1].toLowerCase() === 'as';
    if (args.length !== 1 && !hasName) throw this.error('FROM requires either one or three arguments');
    const stageName = hasName ? args[2].toLowerCase() : undefined;
    if (stageName !== undefined && !VALID_STAGE_NAME.test(stageName)) {
      throw this.error(`invalid name for build stage: ${goQuote(args[2])}, name can't start with a number or contain symbols`);
    }
    const platform = this.flags.string('platform');
    if (platform !== undefined) this.checked(platform);
    return { ...this.base(), kind: 'FROM', image: this.checked(args[0]), platform, stageName };
  }

  private run(): RunInstruction {
    const network = this.flags.string('network') ?? 'default';
    if (network !== 'default' && network !== 'none' && network !== 'host') throw this.error(`invalid network mode ${goQuote(network)}`);
    const security = this.flags.string('security') ?? 'sandbox';
    if (security !== 'sandbox' && security !== 'insecure') throw this.error(`security ${goQuote(security)} is not valid`);
    // Mount values stay unexpanded; passing each through `checked` rejects bad syntax now.
    const mounts = this.flags.strings('mount').map((spec) => expandMount(parseMount(spec, this.line), (value) => this.checked(value)));
    return { ...this.base(), kind: 'RUN', command: this.commandLine(), heredocs: this.node.heredocs.map(toHeredocFile), mounts, network, security };
  }

  private shell(): ShellInstruction {
    if (this.node.args.length === 0) throw this.error('SHELL requires at least one argument');
    if (!this.node.json) throw this.error('SHELL requires the arguments to be in JSON form');
    return { ...this.base(), kind: 'SHELL', shell: this.node.args };
  }

  private arg(): ArgInstruction {
    const args = this.atLeastOne().map((word): ArgDeclaration => {
      const equals = word.indexOf('=');
      if (equals < 0) return { key: this.checked(word) };
      if (equals === 0) throw this.error('ARG names can not be blank');
      return { key: this.checked(word.slice(0, equals)), defaultValue: this.checked(word.slice(equals + 1)) };
    });
    return { ...this.base(), kind: 'ARG', args };
  }

  private copy(): CopyInstruction {
    const from = this.flags.string('from');
    if (from !== undefined && expandWord(from, NO_VARIABLES, { line: this.line, escapeChar: this.escapeChar }) !== from) {
      throw this.error('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
    }
    return { ...this.copySources('COPY'), kind: 'COPY', from, parents: this.flags.bool('parents') ?? false };
  }

  private add(): AddInstruction {
    const checksum = this.flags.string('checksum');
    if (checksum !== undefined) this.checked(checksum);
    return { ...this.copySources('ADD'), kind: 'ADD', checksum, keepGitDir: this.flags.bool('keep-git-dir'), unpack: this.flags.bool('unpack') };
  }

  private copySources(keyword: 'COPY' | 'ADD'): CopySources {
    const args = this.node.args;
    if (args.length < 2) throw this.error(`${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
    const dest = args[args.length - 1];
    const isHeredoc = (arg: string) => !this.node.json && parseHeredocWord(arg, this.line) !== undefined;
    if (isHeredoc(dest)) throw this.error(`${keyword} cannot accept a heredoc as a destination`);
    const sources: string[] = [];
    const heredocs: HeredocFile[] = [];
    for (const source of args.slice(0, -1)) {
      const word = isHeredoc(source) ? parseHeredocWord(source, this.line) : undefined;
      const body = word && this.node.heredocs.find((heredoc) => heredoc.name === word.name);
      if (body) heredocs.push(toHeredocFile(body));
      else sources.push(this.checked(source));
    }
    const chown = this.flags.string('chown');
    const chmod = this.flags.string('chmod');
    if (chown !== undefined) this.checked(chown);
    if (chmod !== undefined) this.checked(chmod);
    return { ...this.base(), sources, heredocs, dest: this.checked(dest), chown, chmod, link: this.flags.bool('link') ?? false, excludes: this.flags.strings('exclude') };
  }

  private volume(): VolumeInstruction {
    const paths = this.atLeastOne().map((path) => {
      if (path.trim() === '') throw this.error('VOLUME specified can not be an empty string');
      return this.checked(path.trim());
    });
    return { ...this.base(), kind: 'VOLUME', paths };
  }

  private healthcheck(): HealthcheckInstruction {
    const [type, ...command] = this.atLeastOne();
    const typeName = type.toUpperCase();
    const base = { ...this.base(), kind: 'HEALTHCHECK' as const };
    if (typeName === 'NONE') {
      if (command.length > 0) throw this.error('HEALTHCHECK NONE takes no arguments');
      return { ...base, test: ['NONE'], intervalNs: 0, timeoutNs: 0, startPeriodNs: 0, startIntervalNs: 0, retries: 0 };
    }
    if (typeName !== 'CMD') throw this.error(`Unknown type ${goQuote(typeName)} in HEALTHCHECK (try CMD)`);
    if (command.length === 0) throw this.error('Missing command after HEALTHCHECK CMD');
    const test = this.node.json ? ['CMD', ...command] : ['CMD-SHELL', command.join(' ')];
    const retriesText = this.flags.string('retries');
    const retries = retriesText === undefined || retriesText === '' ? 0 : Number(retriesText);
    if (!Number.isSafeInteger(retries) || !/^[+-]?\d*$/.test(retriesText ?? '') || retries > 2 ** 31 - 1) {
      throw this.error(`invalid value for --retries: ${goQuote(retriesText ?? '')}`);
    }
    if (retries < 0) throw this.error(`--retries cannot be negative (${retries})`);
    return {
      ...base,
      test,
      intervalNs: this.interval('interval'),
      timeoutNs: this.interval('timeout'),
      startPeriodNs: this.interval('start-period'),
      startIntervalNs: this.interval('start-interval'),
      retries,
    };
  }

  // interval reads a HEALTHCHECK duration flag; unset or 0 means the runtime's default, anything else is at least 1ms.
  private interval(name: string): number {
    const text = this.flags.string(name);
    if (text === undefined || text === '') return 0;
    const nanoseconds = parseDuration(text);
    if (nanoseconds === undefined) throw this.error(`invalid duration for --${name}: ${goQuote(text)}`);
    if (nanoseconds !== 0 && nanoseconds < MINIMUM_INTERVAL_NS) throw this.error(`Interval "${name}" cannot be less than 1ms`);
    return nanoseconds;
  }

  private onbuild(): OnbuildInstruction {
    const triggerNode = this.node.trigger;
    if (!triggerNode) throw this.error('ONBUILD requires at least one argument');
    if (triggerNode.keyword === 'FROM' || triggerNode.keyword === 'MAINTAINER') {
      throw this.error(`${triggerNode.keyword} isn't allowed as an ONBUILD trigger`);
    }
    // The trigger's heredoc bodies were read for the ONBUILD line that holds it.
    const trigger = toInstruction({ ...triggerNode, heredocs: this.node.heredocs }, this.escapeChar) as OnbuildTrigger;
    let expression = this.node.original.replace(/^\s*ONBUILD\s*/i, '');
    for (const heredoc of this.node.heredocs) expression += `\n${heredoc.content}${heredoc.name}`;
    return { ...this.base(), kind: 'ONBUILD', trigger, expression };
  }

  // commandLine is the exec-form argv, or the shell-form text as one string.
  private commandLine(): string[] {
    const args = this.node.args;
    return this.node.json || args.length === 0 ? args : [args.join(' ')];
  }

  private keyValues(keyword: 'ENV' | 'LABEL'): KeyValue[] {
    const args = this.atLeastOne();
    const pairs: KeyValue[] = [];
    for (let i = 0; i < args.length; i += 3) {
      if (args[i] === '') throw this.error(`${keyword} names can not be blank`);
      pairs.push({ key: this.checked(args[i]), value: this.checked(args[i + 1]) });
    }
    return pairs;
  }

  private base(): InstructionBase {
    const { startLine, endLine, json, original, stepText } = this.node;
    return { startLine, endLine, form: json ? 'exec' : 'shell', original, stepText };
  }

  private exactlyOne(): string {
    if (this.node.args.length !== 1) throw this.error(`${this.node.keyword} requires exactly one argument`);
    return this.node.args[0];
  }

  private atLeastOne(): string[] {
    if (this.node.args.length === 0) throw this.error(`${this.node.keyword} requires at least one argument`);
    return this.node.args;
  }

  // checked returns word after making sure expanding it cannot fail on syntax alone.
  private checked(word: string): string {
    checkWordSyntax(word, { line: this.line, escapeChar: this.escapeChar });
    return word;
  }

  private error(message: string): DockerfileError {
    return new DockerfileError({ line: this.line, message });
  }
}

function toHeredocFile(heredoc: Heredoc): HeredocFile {
  const content = heredoc.chomp ? heredoc.content.replace(/(^|\n)\t+/g, '$1') : heredoc.content;
  return { name: heredoc.name, content, expand: heredoc.expand, fileDescriptor: heredoc.fileDescriptor };
}
