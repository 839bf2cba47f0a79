// Which stages a build needs: the target (last stage or --target) and every
// stage it reaches through FROM <stage>, COPY --from and RUN --mount from=;
// others are skipped.
import { DockerfileError } from '../errors';
import { expandWord, expansionBudget } from '../dockerfile/expand';
import type { Instruction } from '../dockerfile/instruction-types';
import type { Dockerfile, Stage } from '../dockerfile/stages';

/** BuildPlan is the stages to build, in file order, and how many steps they hold. */
export interface BuildPlan {
  stages: Stage[];
  target: Stage;
  totalSteps: number;
  /** Global ARG values (defaults overridden by --build-arg), which FROM lines see. */
  globalArgs: Map<string, string>;
}

/** planBuild selects the stages reachable from the target. */
export function planBuild(dockerfile: Dockerfile, buildArgs: Map<string, string>, targetName?: string): BuildPlan {
  const globalArgs = new Map<string, string>();
  // The ARGs before the first FROM are capped as a stage's are.
  const budget = expansionBudget();
  for (const arg of dockerfile.globalArgs) {
    for (const { key, defaultValue } of arg.args) {
      const value = buildArgs.get(key) ??
        (defaultValue === undefined ? undefined : expandWord(defaultValue, globalArgs, { line: arg.startLine, escapeChar: dockerfile.escapeChar, budget }));
      if (value !== undefined) globalArgs.set(key, value);
    }
  }
  const { stages } = dockerfile;
  const target = targetName === undefined ? stages[stages.length - 1] : stages.find((s) => s.name === targetName.toLowerCase());
  if (!target) throw new DockerfileError({ line: 1, message: `target stage "${targetName}" could not be found` });

  const needed = new Set<number>();
  const visit = (stage: Stage) => {
    if (needed.has(stage.index)) return;
    needed.add(stage.index);
    const base = stageRef(stages, stage.index, baseName(stage, globalArgs, dockerfile.escapeChar));
    if (base) visit(base);
    for (const instruction of stage.instructions) {
      for (const from of fromRefs(instruction)) {
        // The stage's own name is the stage itself, never an image of that name.
        const source = stage.name !== undefined && stage.name === from.toLowerCase() ? stage : stageRef(stages, stage.index, from);
        if (source === stage) throw new DockerfileError({ line: instruction.startLine, message: `circular dependency detected on stage: ${stage.name ?? stage.index}` });
        if (source) visit(source);
      }
    }
  };
  visit(target);
  const built = stages.filter((s) => needed.has(s.index));
  return { stages: built, target, globalArgs, totalSteps: built.reduce((n, s) => n + 1 + s.instructions.length, 0) };
}

// fromRefs are the stages or images an instruction reads from: COPY --from, RUN --mount from=.
function fromRefs(instruction: Instruction): string[] {
  if (instruction.kind === 'COPY') return instruction.from === undefined ? [] : [instruction.from];
  if (instruction.kind !== 'RUN') return [];
  return instruction.mounts.flatMap((mount) => ((mount.type === 'bind' || mount.type === 'cache') && mount.from !== undefined ? [mount.from] : []));
}

/** baseName is a stage's FROM image with the global ARGs expanded. */
export function baseName(stage: Stage, globalArgs: Map<string, string>, escapeChar: Dockerfile['escapeChar']): string {
  return expandWord(stage.from.image, globalArgs, { line: stage.from.startLine, escapeChar });
}

/** stageRef finds the earlier stage a FROM or --from names (by name, or by index for --from), if it is one. */
export function stageRef(stages: Stage[], fromIndex: number, ref: string): Stage | undefined {
  const byName = stages.find((s) => s.name !== undefined && s.name === ref.toLowerCase() && s.index < fromIndex);
  if (byName) return byName;
  if (/^\d+$/.test(ref)) {
    const index = Number(ref);
    return index < fromIndex ? stages[index] : stages[fromIndex];
  }
  return undefined;
}
