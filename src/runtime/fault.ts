// A test-only fault point: with NBOX_TEST_STOP_AT=<step>, this process kills
// itself (SIGKILL: no handler, no cleanup) when it reaches that named step, so
// the fault tests can walk every step of run -d, start and rm and check what a
// `kill -9` there leaves. A step of the monitor is `monitor:<step>` (the addon
// passes it in the monitor's otherwise empty environment). Unset: nothing.
const stopAt = process.env.NBOX_TEST_STOP_AT;

/** faultPoint is a named step where a test may have this process die. */
export function faultPoint(step: string): void {
  if (stopAt === step) process.kill(process.pid, 'SIGKILL');
}
