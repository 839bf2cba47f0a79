// What a RUN runs: its argv (exec form, SHELL, or a heredoc script) and its
// environment (the image's Env, build args in scope, proxy args given).
import type { RunInstruction } from '../dockerfile/instruction-types';
import { commandOf, envMap, type StageState } from './stage-state';

/** Build arguments Docker passes to RUN without an ARG line, and keeps out of history. */
export const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

/** runArgv is RUN's command: exec form as is, shell form in SHELL, a lone heredoc as the script. */
export function runArgv(state: StageState, instruction: RunInstruction): string[] {
  if (instruction.form === 'exec') return instruction.command;
  const text = instruction.command.join(' ');
  const [heredoc] = instruction.heredocs;
  if (heredoc && instruction.heredocs.length === 1 && /^\s*\d*<<-?\s*["']?\w+["']?\s*$/.test(text)) {
    return commandOf(state, 'shell', [heredoc.content]);
  }
  // Other heredocs stay in the script, for the shell to feed to the command.
  const script = [text, ...instruction.heredocs.map((h) => `${h.content}${h.content.endsWith('\n') ? '' : '\n'}${h.name}`)].join('\n');
  return commandOf(state, 'shell', [script]);
}

/** runEnv is a RUN's environment: the image's Env plus build args in scope (and proxy args given). */
export function runEnv(state: StageState, buildArgs: Map<string, string>): string[] {
  const env = new Map<string, string>();
  for (const [key, value] of buildArgs) if (PROXY_ARGS.has(key)) env.set(key, value);
  for (const [key, value] of envMap(state)) env.set(key, value);
  return [...env].map(([k, v]) => `${k}=${v}`);
}
