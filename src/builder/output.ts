// Build progress in the classic Docker builder's words, which Docker users
// know: Step N/M, ---> Running in, ---> Using cache, Successfully built.
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

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
  /** RUN's output (stdout and stderr as one), when the build is given no fds for it. */
  runOutput?(chunk: Buffer): void;
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

/** BuildEvent is one piece of build progress, as one value: what `onProgress` receives. */
export type BuildEvent =
  | { type: 'step'; index: number; total: number; text: string }
  | { type: 'cache' }
  | { type: 'running'; containerId: string }
  | { type: 'removing'; containerId: string }
  | { type: 'result'; imageId: string }
  | { type: 'built'; imageId: string }
  | { type: 'tagged'; name: string }
  | { type: 'note'; text: string }
  | { type: 'warning'; text: string }
  /** A piece of a RUN's output (stdout and stderr as one), as it comes. */
  | { type: 'output'; text: string };

/** eventOutput turns the builder's progress calls into one stream of events. */
export function eventOutput(onProgress: (event: BuildEvent) => void): BuildOutput {
  // A character split between two reads is held until its end comes.
  const decoder = new StringDecoder('utf8');
  return {
    step: (index, total, text) => onProgress({ type: 'step', index, total, text }),
    usingCache: () => onProgress({ type: 'cache' }),
    runningIn: (containerId) => onProgress({ type: 'running', containerId }),
    removingIntermediate: (containerId) => onProgress({ type: 'removing', containerId }),
    stepResult: (imageId) => onProgress({ type: 'result', imageId }),
    built: (imageId) => onProgress({ type: 'built', imageId }),
    tagged: (name) => onProgress({ type: 'tagged', name }),
    note: (text) => onProgress({ type: 'note', text }),
    warning: (text) => onProgress({ type: 'warning', text }),
    runOutput: (chunk) => {
      const text = decoder.write(chunk);
      if (text !== '') onProgress({ type: 'output', text });
    },
  };
}
