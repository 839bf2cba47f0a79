// `docker update`: new limits (and a new restart policy) for a container,
// written into its running cgroup at once and kept in its record, so the next
// start and `inspect` have them. Checked as the daemon checks them first.
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';

import { NboxError } from '../errors';

import { CGROUP_MOUNT, availableCpus, isUnifiedHost } from './cgroup';
import { applyLimits } from './cgroup-limits';
import { isUp } from './container-status';
import type { ContainerRegistry } from './container-registry';
import { validateResources, type Resources } from './resources';
import { checkAutoRemove, parseRestartPolicy } from './restart-policy';

/** UpdateOptions are `docker update`'s flags: limits (0 leaves one as it is) and --restart. */
export interface UpdateOptions {
  resources?: Resources;
  restart?: string;
}

/** updateContainer applies new limits to a container, running or not, and records them. */
export async function updateContainer(containers: ContainerRegistry, ref: string, options: UpdateOptions): Promise<void> {
  const found = await containers.resolve(ref);
  const release = await containers.lock(found);
  try {
    const record = await containers.resolve(found.config.id);
    const given = options.resources ?? {};
    const old = record.config.resources ?? {};
    checkSwap(given, old);
    // --pids-limit 0 in an update means no limit, as -1 does.
    const pidsLimit = given.pidsLimit === 0 ? -1 : given.pidsLimit;
    const changes = Object.fromEntries(Object.entries({ ...given, pidsLimit }).filter(([, value]) => value !== undefined && value !== 0 && value !== '')) as Resources;
    const merged = validateResources({ ...old, ...changes }, { cpus: cpus().length, availableCpus: availableCpus(), unified: isUnifiedHost() });
    const restartPolicy = options.restart === undefined ? record.config.restartPolicy : parseRestartPolicy(options.restart);
    if (options.restart !== undefined && restartPolicy && record.config.autoRemove && restartPolicy.name !== 'no') {
      throw new NboxError('ERR_NBOX_USAGE', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    if (restartPolicy) checkAutoRemove(restartPolicy, false);
    if (isUp(record.state) && record.state.cgroup) {
      // Memory and its swap go together, so the kernel's order between them can be kept.
      const memoryPair = changes.memory || changes.memorySwap ? { memory: merged.memory, memorySwap: merged.memorySwap } : {};
      applyLimits(record.state.cgroup, CGROUP_MOUNT, isUnifiedHost(), { ...changes, ...memoryPair, cgroupParent: undefined, ulimits: undefined });
    }
    await containers.setConfig(record, { ...record.config, resources: merged, ...(restartPolicy ? { restartPolicy } : {}) });
    // A running container's monitor holds the policy it started with: it reads this file at each exit (monitor.c).
    if (options.restart !== undefined && restartPolicy && isUp(record.state)) {
      await writeFile(join(record.dir, 'restart-policy'), `${restartPolicy.name} ${restartPolicy.maximumRetryCount}\n`);
    }
  } finally {
    await release();
  }
}

// The daemon's check: memory above the swap already set needs a new swap too.
function checkSwap(given: Resources, old: Resources): void {
  if (given.memory && !given.memorySwap && old.memorySwap && old.memorySwap > 0 && given.memory > old.memorySwap) {
    throw new NboxError('ERR_NBOX_USAGE', 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
}
