// `node session-sweep.js STORE_ROOT`: what an nbox-reaper runs once its owner has
// died (session.ts). It opens the store as any nbox command does, so the usual
// sweeps end the owner's orphans and release their leases, then removes every
// session container whose owner is gone.
import { Store } from '../image/store';
import { ContainerRegistry } from './containers';
import { sweepSessions } from './session';

async function main(root: string): Promise<void> {
  const store = await Store.open(root);
  const containers = new ContainerRegistry(store.root);
  await containers.sweep();
  await sweepSessions({ store, containers });
}

main(process.argv[2]).catch((err: Error) => {
  process.stderr.write(`nbox session sweep: ${err.message}\n`);
  process.exitCode = 1;
});
