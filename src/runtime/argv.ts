// The container's argv from the image ENTRYPOINT/CMD and the run options, with
// Docker's rules (moby daemon mergeAndVerifyConfig and the CLI's --entrypoint).
import { NboxError } from '../errors';

/** ArgvSources holds everything that decides a container's argv. */
export interface ArgvSources {
  imageEntrypoint: string[] | null | undefined;
  imageCmd: string[] | null | undefined;
  /** The --entrypoint value: undefined when not given, '' to clear the image's; an array as the Engine API gives it. */
  entrypointOverride?: string | string[] | undefined;
  /** Arguments given after the image name. */
  cmdArgs: string[];
}

/** ContainerCommand is the effective ENTRYPOINT and CMD (null when empty) and the argv they make. */
export interface ContainerCommand {
  entrypoint: string[] | null;
  cmd: string[] | null;
  argv: string[];
}

/** containerCommand is ENTRYPOINT + (CLI args, else CMD); --entrypoint replaces ENTRYPOINT and drops the image CMD. */
export function containerCommand(sources: ArgvSources): ContainerCommand {
  const { imageEntrypoint, imageCmd, entrypointOverride, cmdArgs } = sources;
  // An image CMD was written for the image ENTRYPOINT, so Docker never pairs it with another one.
  const entrypoint =
    entrypointOverride === undefined ? (imageEntrypoint ?? []) : typeof entrypointOverride === 'string' ? [entrypointOverride].filter((arg) => arg !== '') : entrypointOverride;
  const cmd = cmdArgs.length > 0 ? cmdArgs : entrypointOverride === undefined ? (imageCmd ?? []) : [];
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new NboxError('ERR_NBOX_USAGE', 'no command specified');
  return { entrypoint: entrypoint.length ? entrypoint : null, cmd: cmd.length ? cmd : null, argv };
}
