// Node 20 reads `--env-file F` (and `--env-file-if-exists`) anywhere in its
// argv up to the first `--`, nbox's own arguments included, and takes NODE_OPTIONS
// from F before any JavaScript runs: `node main.js run --env-file F` ran F's
// `NODE_OPTIONS=--require …` inside nbox, as root. The installed command starts
// node with `--` first (see main.ts's shebang); a CLI started without it cannot
// undo what Node already did, so it refuses to go on, and says how to start it.
import { readFileSync } from 'node:fs';

const FLAGS = ['--env-file', '--env-file-if-exists'];

/** envFilesNodeRead lists the files that Node 20 read as its own --env-file from nbox's arguments:
 * cmdline is the process's raw argv, of which the last `ownArgs` are nbox's. It follows Node's own
 * scan (node_dotenv.cc GetPathFromArgs): every flag up to the first `--`, its value after `=` or next. */
export function envFilesNodeRead(cmdline: string[], ownArgs: number): string[] {
  const files: string[] = [];
  const firstOwn = cmdline.length - ownArgs;
  for (let at = 1; at < cmdline.length && cmdline[at] !== '--'; at++) {
    const arg = cmdline[at];
    const flag = FLAGS.find((name) => arg === name || arg.startsWith(`${name}=`));
    if (flag === undefined) continue;
    const file = arg === flag ? cmdline[at + 1] : arg.slice(flag.length + 1);
    if (at >= firstOwn && file !== undefined) files.push(file);
  }
  return files;
}

/** refuseNodeEnvFiles returns the line to refuse with when Node read an --env-file from nbox's arguments. */
export function refuseNodeEnvFiles(argv: string[]): string | undefined {
  let cmdline: string[];
  try {
    cmdline = readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
  const [file] = envFilesNodeRead(cmdline, argv.length - 2);
  if (file === undefined) return undefined;
  return `node itself read the env file ${file} (Node 20 takes --env-file from a script's arguments, and runs NODE_OPTIONS found there): start nbox as "nbox ..." or "node -- main.js ..."`;
}
