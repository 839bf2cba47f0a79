#!/usr/bin/env node
// Wall time of commands, run in turn (A B C A B C …) rather than hyperfine's
// all-of-A-then-all-of-B: on a shared, noisy machine a burst of load then
// falls on every command alike, so ratios of medians hold.
//   node scripts/bench/interleave.js RUNS WARMUP NAME=COMMAND...
// COMMAND is split on spaces (no shell, as hyperfine -N); leading VAR=value
// words set its environment. Each run's output goes to /dev/null; a run that
// fails stops the bench. Prints JSON: { NAME: { median, min, p90, cpu, runs } }
// in ms; cpu is the mean user+system time of the command and of the children it
// waited for (from /proc/self/stat, in clock ticks: a mean, not per run), which
// load on the machine inflates far less than wall time.
'use strict';
const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');

const [runsArg, warmupArg, ...specs] = process.argv.slice(2);
const runs = Number(runsArg);
const warmup = Number(warmupArg);
if (!(runs > 0) || !(warmup >= 0) || specs.length === 0) {
  console.error('usage: interleave.js RUNS WARMUP NAME=COMMAND...');
  process.exit(2);
}

const commands = specs.map((spec) => {
  const eq = spec.indexOf('=');
  const words = spec.slice(eq + 1).split(' ').filter(Boolean);
  const env = { ...process.env };
  while (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] ?? '')) {
    const assignment = words.shift();
    const at = assignment.indexOf('=');
    env[assignment.slice(0, at)] = assignment.slice(at + 1);
  }
  return { name: spec.slice(0, eq), file: words[0], args: words.slice(1), env, times: [], ticks: 0 };
});

const TICK_MS = 1000 / 100; // USER_HZ
// childrenCpuTicks is cutime + cstime of this process: its waited-for children's CPU time.
function childrenCpuTicks() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

function once(command) {
  const ticks = childrenCpuTicks();
  const t0 = process.hrtime.bigint();
  const result = spawnSync(command.file, command.args, { env: command.env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  command.ticks += childrenCpuTicks() - ticks;
  if (result.status !== 0) {
    console.error(`${command.name}: exit ${result.status ?? result.signal}: ${String(result.stderr).trim()}`);
    process.exit(1);
  }
  return ms;
}

for (let i = 0; i < warmup; i++) for (const command of commands) once(command);
for (const command of commands) command.ticks = 0;
for (let i = 0; i < runs; i++) for (const command of commands) command.times.push(once(command));

const at = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const report = {};
for (const { name, times, ticks } of commands) {
  const sorted = [...times].sort((a, b) => a - b);
  report[name] = { median: +at(sorted, 0.5).toFixed(2), min: +sorted[0].toFixed(2), p90: +at(sorted, 0.9).toFixed(2), cpu: +((ticks * TICK_MS) / runs).toFixed(1), runs };
}
console.log(JSON.stringify(report));
