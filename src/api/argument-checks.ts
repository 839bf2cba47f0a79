// The library's arguments, checked at its door before anything is read or
// made: a JavaScript caller is not held to the .d.ts, and a number where a
// string belongs must be its clear NboxError, never a TypeError from deep
// inside, nor the addon aborting the whole process.
import { NboxError } from '../errors';
import { fieldMisfit, isJsonObject, type JsonKind } from '../json-shape';

const RUN_OPTIONS: Record<string, JsonKind> = {
  cmd: 'strings', entrypoint: 'string or strings', env: 'strings', envFiles: 'strings', user: 'string', workdir: 'string',
  hostname: 'string', name: 'string', network: 'string', networkAliases: 'strings', ip: 'string', addHosts: 'strings', dns: 'strings',
  dnsSearch: 'strings', dnsOptions: 'strings', publish: 'strings', publishAll: 'bool', expose: 'strings', autoRemove: 'bool',
  labels: 'string map', seccomp: 'bool', volumesFrom: 'strings', tmpfs: 'string map', init: 'bool', stopSignal: 'string',
  logDriver: 'string', logOpts: 'string map', deadline: 'number',
};

const EXEC_OPTIONS: Record<string, JsonKind> = {
  env: 'strings', envFiles: 'strings', user: 'string', workdir: 'string', reject: 'bool', stdin: 'bool', detach: 'bool', tty: 'bool',
  detachKeys: 'string', privileged: 'bool',
};

// What each kind is, in a message.
const KIND_TEXT: Record<JsonKind, string> = {
  'string': 'a string', 'strings': 'an array of strings', 'string or strings': 'a string or an array of strings', 'bool': 'true or false',
  'number': 'a number', 'object': 'an object', 'string map': 'an object of strings', 'objects': 'an array of objects', 'port map': 'an object',
};

/** checkRunArguments refuses a run or create whose image or options are not what RunOptions says. */
export function checkRunArguments(verb: string, image: unknown, options: unknown): void {
  if (typeof image !== 'string' || image === '') throw usage(`${verb}: the image must be a non-empty string`);
  checkOptions(verb, options, RUN_OPTIONS);
  const { wait } = options as { wait?: unknown };
  const strategies = Array.isArray(wait) ? wait : wait === undefined ? [] : [wait];
  if (!strategies.every((strategy) => isJsonObject(strategy) && typeof strategy.wait === 'function')) {
    throw usage(`${verb}: option wait must be a wait strategy (Wait.forLog(…), …) or an array of them`);
  }
}

/** checkExecArguments refuses an exec whose command or options are not what ExecOptions says. */
export function checkExecArguments(cmd: unknown, options: unknown): void {
  if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((arg) => typeof arg === 'string')) {
    throw usage('exec: the command must be a non-empty array of strings');
  }
  checkOptions('exec', options, EXEC_OPTIONS);
}

function checkOptions(verb: string, options: unknown, kinds: Record<string, JsonKind>): void {
  if (!isJsonObject(options)) throw usage(`${verb}: options must be an object`);
  const wrong = fieldMisfit(options, kinds);
  if (wrong) throw usage(`${verb}: option ${wrong.field} must be ${KIND_TEXT[wrong.kind]}`);
}

function usage(message: string): NboxError {
  return new NboxError('ERR_NBOX_USAGE', message);
}
