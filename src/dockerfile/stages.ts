// A whole Dockerfile: global ARGs, then stages each begun by FROM. This is the
// entry point the build executor uses; it parses, types and groups.

import { DockerfileError } from '../errors';
import type { EscapeChar } from './expand';
import { checkPlatform, toInstruction, type ArgInstruction, type FromInstruction, type Instruction } from './instructions';
import { parse, type Directive } from './parser';

/** Stage is one FROM and the instructions up to the next FROM. */
export interface Stage {
  index: number;
  /** name is the lower-cased `AS` name. */
  name?: string;
  from: FromInstruction;
  instructions: Instruction[];
}

/** Dockerfile is a parsed, typed Dockerfile. */
export interface Dockerfile {
  directives: Directive[];
  escapeChar: EscapeChar;
  /** globalArgs are the ARGs before the first FROM, which only FROM lines see. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
}

/** ParseOptions: file names the Dockerfile in errors; platform (`linux/amd64`), when given, is the only one a FROM may ask for. */
export interface ParseOptions {
  file?: string;
  platform?: string;
}

/** parseDockerfile parses text into global ARGs and stages; every problem is a DockerfileError naming options.file (default `Dockerfile`). */
export function parseDockerfile(text: string, options: ParseOptions = {}): Dockerfile {
  try {
    return groupStages(text, options.platform);
  } catch (err) {
    if (err instanceof DockerfileError && options.file !== undefined) {
      throw new DockerfileError({ file: options.file, line: err.line, message: err.detail });
    }
    throw err;
  }
}

/** formatInstruction is the instruction as `Step N/M : ` shows it: its lines joined by single spaces. */
export function formatInstruction(instruction: FromInstruction | Instruction): string {
  return instruction.stepText;
}

function groupStages(text: string, platform: string | undefined): Dockerfile {
  const { nodes, directives, escapeChar } = parse(text);
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const stageLines = new Map<string, number>();
  for (const node of nodes) {
    const instruction = toInstruction(node, escapeChar);
    const current = stages[stages.length - 1];
    if (instruction.kind === 'FROM') {
      const name = instruction.stageName;
      // A variable (`$BUILDPLATFORM`) names the build's own platform, as no --platform flag picks another.
      if (platform !== undefined && instruction.platform !== undefined && !instruction.platform.includes('$')) {
        checkPlatform(instruction.platform, platform, instruction.startLine);
      }
      if (name !== undefined) {
        const firstLine = stageLines.get(name);
        if (firstLine !== undefined) {
          throw new DockerfileError({ line: instruction.startLine, message: `duplicate stage name ${JSON.stringify(name)}, first defined on line ${firstLine}` });
        }
        stageLines.set(name, instruction.startLine);
      }
      stages.push({ index: stages.length, name, from: instruction, instructions: [] });
    } else if (current) {
      current.instructions.push(instruction);
    } else if (instruction.kind === 'ARG') {
      globalArgs.push(instruction);
    } else {
      throw new DockerfileError({ line: instruction.startLine, message: 'no build stage in current context' });
    }
  }
  if (stages.length === 0) throw new DockerfileError({ line: nodes[nodes.length - 1].endLine, message: 'dockerfile contains no stages to build' });
  return { directives, escapeChar, globalArgs, stages };
}
