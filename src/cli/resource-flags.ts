// The limit flags `run`, `create` and `update` share, as Docker names them.
import type { Command } from 'commander';

import { collect } from './context';

/** addResourceFlags adds the cgroup limit flags (update takes all but --ulimit, --oom-kill-disable and --cgroup-parent). */
export function addResourceFlags(command: Command, forUpdate = false): Command {
  command
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', "swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--cpus <decimal>', 'number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <int>', 'tune container pids limit (set -1 for unlimited)');
  if (forUpdate) return command;
  return command
    .option('--ulimit <name=soft[:hard]>', 'ulimit options (repeatable)', collect, [])
    .option('--oom-kill-disable', 'disable OOM Killer')
    .option('--cgroup-parent <path>', 'optional parent cgroup for the container');
}
