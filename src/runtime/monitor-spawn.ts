// Spawning a container's nbox-monitor (native/monitor.c), apart from the start
// sequence (monitor.ts) so that the store's open can set the spare up without
// loading the runtime.
import { closeSync } from 'node:fs';

import { addon, type MonitorHello } from '../sys/addon';
import { processStartTime } from '../sys/proc';

// A process that runs containers one after another (a library's test suite, `serve`) keeps one monitor spawned
// ahead, its HELLO said: a start takes it instead of waiting out a spawn (3-4 ms here). It takes its container's
// ID with the spec (native/monitor.c adopt_id), and reads EOF and exits should this process end first.
const SPARE_ID = '0'.repeat(64);
let keepSpare = false;
let spare: Promise<MonitorHello> | undefined;
// The spare is made as the last start's container was: the next of a suite is most often its like.
let lastReadyNetns = false;

/** keepSpareMonitor turns the spare on (or off) for this process: not for a CLI verb, which starts one container. */
export function keepSpareMonitor(on: boolean): void {
  keepSpare = on;
}

/** startMonitor spawns the monitor of container id, or takes the spare; its HELLO resolves later, so
 * the spawn overlaps with reading the image. Give the promise to startMonitored. readyNetns: the
 * container has a network namespace of its own (`--network none`), which the monitor makes ahead. */
export function startMonitor(id: string, readyNetns: boolean): Promise<MonitorHello> {
  const taken = spare;
  spare = undefined;
  lastReadyNetns = readyNetns;
  const spawn = () => addon().spawnMonitor(id, readyNetns);
  // A spare made for another kind of network serves as well: its namespace goes unused.
  const hello = taken ? taken.then((ready) => (alive(ready) ? ready : gone(ready, spawn)), spawn) : spawn();
  // Awaited by startMonitored, or dropped (and its fd closed) by abandonMonitor.
  hello.catch(() => {});
  return hello;
}

/** refillSpareMonitor spawns the spare the next start takes, once a start has used it up. */
export function refillSpareMonitor(): void {
  if (!keepSpare || spare) return;
  spare = addon().spawnMonitor(SPARE_ID, lastReadyNetns);
  spare.catch(() => {});
}

// alive: the spare still runs (nothing killed it while it waited).
function alive(ready: MonitorHello): boolean {
  return processStartTime(ready.pid) === ready.startTime;
}

// gone lets a dead spare's socket go and spawns the monitor afresh.
function gone(ready: MonitorHello, spawn: () => Promise<MonitorHello>): Promise<MonitorHello> {
  closeSync(ready.fd);
  return spawn();
}
