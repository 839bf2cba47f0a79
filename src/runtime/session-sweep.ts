// `node session-sweep.js STORE_ROOT`: what an nbox-reaper runs once its owner has
// died (session.ts). It opens the store as any nbox command does, so the usual
// sweeps end the owner's orphans and release their leases, then removes every
// session container whose owner is gone.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { Store } from '../image/store';
import { sweepBridgeLeases } from './bridge-network';
import { sweepOrphanCgroups } from './cgroup';
import { ContainerRegistry } from './container-registry';
import { sweepSessions } from './session';

async function main(root: string): Promise<void> {
  // A store removed meanwhile (a test's temporary one) is not made again: only the host-wide state is swept.
  if (!existsSync(join(root, 'containers'))) {
    await sweepOrphanCgroups();
    await sweepBridgeLeases();
    return;
  }
  const store = await Store.open(root);
  const containers = new ContainerRegistry(store.root);
  await containers.sweep();
  await sweepSessions({ store, containers });
}

main(process.argv[2]).catch((err: Error) => {
  process.stderr.write(`nbox session sweep: ${err.message}\n`);
  process.exitCode = 1;
});
