// Build-test steps over one store: a build that must pass, one that must fail
// cleanly, a script run in an image, and the temp entries a build left behind.
import type { ExecutionContext } from 'ava';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, type CliResult, type TestStore } from './env';

/** BuildSteps are the helpers bound to one test store. */
export interface BuildSteps {
  /** build runs `nbox build ARGS` and asserts it succeeded. */
  build(t: ExecutionContext, args: string[], input?: string): Promise<CliResult>;
  /** buildFails asserts a failed build: exit 1, one line matching message, no image added. */
  buildFails(t: ExecutionContext, args: string[], message: RegExp): Promise<void>;
  /** run runs `sh -c script` in image and returns its stdout, asserting exit 0. */
  run(t: ExecutionContext, image: string, script: string): Promise<string>;
  /** leftovers lists the store's temp entries whose names end in one of the given labels. */
  leftovers(labels: string[]): Promise<string[]>;
}

/** buildSteps binds the build-test helpers to store (whose root may be filled in later, by test.before). */
export function buildSteps(store: TestStore): BuildSteps {
  const images = async () => (await cli(store.root, ['images', '-a', '-q', '--no-trunc'])).stdout;
  return {
    async build(t, args, input) {
      const r = await cli(store.root, ['build', ...args], { input });
      t.is(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r;
    },
    async buildFails(t, args, message) {
      const before = await images();
      const r = await cli(store.root, ['build', ...args]);
      t.is(r.code, 1, r.stdout);
      t.regex(r.stderr, message);
      t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      t.is(await images(), before);
    },
    async run(t, image, script) {
      const r = await cli(store.root, ['run', '--rm', image, 'sh', '-c', script]);
      t.is(r.code, 0, r.stderr);
      return r.stdout;
    },
    async leftovers(labels) {
      return (await readdir(join(store.root, 'tmp'))).filter((name) => labels.some((label) => name.endsWith(`-${label}`)));
    },
  };
}
