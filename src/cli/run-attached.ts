// A foreground `run` as Docker's CLI makes it: a created container started
// under its monitor with this process attached from before its command runs
// (`start -a`). What only a monitor gives comes with it: a restart policy
// applies, and the detach keys of `-it` leave the container running, Up in
// `ps`, for `attach` to join again. The exit code of its first end is ours.
import type { Nbox, RunOptions } from '../api';
import { PROXIED, followSession, outputTo } from './attached';
import { terminalSize } from './tty';

/** AttachedRunFlags are the run flags that say how the caller is joined to the container. */
export interface AttachedRunFlags {
  tty: boolean;
  interactive: boolean;
  detachKeys?: string;
}

/** monitoredForeground says which foreground runs go through a monitor: a terminal's (its detach keys leave it
 * running) and a restart policy's. The others run as this process's child, the quickest start. */
export function monitoredForeground(flags: { tty?: boolean; restart: string }): boolean {
  return (flags.tty ?? false) || flags.restart !== 'no';
}

/** runAttached creates the container, starts it attached and follows it to its end or the detach keys. */
export async function runAttached(nbox: Nbox, image: string, options: Omit<RunOptions, 'detach' | 'stdio'>, flags: AttachedRunFlags): Promise<void> {
  const created = await nbox.create(image, { ...options, tty: flags.tty, interactive: flags.interactive });
  // Signals go to the container from its start on: its output may reach the user before the session is followed.
  const proxy = (signal: NodeJS.Signals) => void nbox.killContainer(created.id, signal).catch(() => {});
  for (const signal of PROXIED) process.on(signal, proxy);
  let following: Promise<void> | undefined;
  try {
    const session = await nbox.startContainer(created.id, {
      stdin: flags.interactive,
      stdout: outputTo(process.stdout),
      stderr: outputTo(process.stderr),
      size: terminalSize(),
    });
    // As `docker run`: signals go to the container, and the end of a piped stdin is its stdin's end.
    // followSession proxies from its first (synchronous) step: ours is removed only after, as removing a
    // signal's last listener gives it back its default action, which would end this process meanwhile.
    if (session) following = followSession(nbox, created.id, session, { tty: flags.tty, stdin: flags.interactive, detachKeys: flags.detachKeys ?? '', sigProxy: true, closeStdin: true });
  } finally {
    for (const signal of PROXIED) process.off(signal, proxy);
  }
  await following;
}
