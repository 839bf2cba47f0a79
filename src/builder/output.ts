// Build progress in the classic Docker builder's words, which Docker users
// know: Step N/M, ---> Running in, ---> Using cache, Successfully built.
import type { Writable } from 'node:stream';

/** BuildOutput receives build progress; a quiet build prints only the image ID at the end. */
export interface BuildOutput {
  step(index: number, total: number, text: string): void;
  usingCache(): void;
  runningIn(containerId: string): void;
  removingIntermediate(containerId: string): void;
  stepResult(imageId: string): void;
  built(imageId: string): void;
  tagged(name: string): void;
  /** A line of its own, such as `# Executing 1 build trigger`. */
  note(text: string): void;
  warning(text: string): void;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** consoleOutput writes progress lines to out (the CLI's stdout); warnings to err. */
export function consoleOutput(out: Writable, err: Writable, quiet = false): BuildOutput {
  const line = (text: string) => {
    if (!quiet) out.write(`${text}\n`);
  };
  return {
    step: (index, total, text) => line(`Step ${index}/${total} : ${text}`),
    usingCache: () => line(' ---> Using cache'),
    runningIn: (id) => line(` ---> Running in ${short(id)}`),
    removingIntermediate: (id) => line(`Removing intermediate container ${short(id)}`),
    stepResult: (id) => line(` ---> ${short(id)}`),
    built: (id) => (quiet ? out.write(`${id}\n`) : line(`Successfully built ${short(id)}`)),
    tagged: (name) => line(`Successfully tagged ${name}`),
    note: line,
    warning: (text) => err.write(`[Warning] ${text}\n`),
  };
}

/** silentOutput drops all progress (library callers who only want the image). */
export const silentOutput: BuildOutput = {
  step: () => {},
  usingCache: () => {},
  runningIn: () => {},
  removingIntermediate: () => {},
  stepResult: () => {},
  built: () => {},
  tagged: () => {},
  note: () => {},
  warning: () => {},
};
