// `node bridge-sweep.js NETWORK_JSON`: a monitor's exit command. Started as the
// monitor exits, it releases the leases of dead owners (the monitor's among
// them) on that bridge, so a detached container's address, namespace and port
// rules go when it ends rather than at the next nbox command.
import { sweepBridgeLeases, type BridgeNetwork } from './bridge-network';

void sweepBridgeLeases(JSON.parse(process.argv[2]) as BridgeNetwork).catch((err: Error) => {
  process.stderr.write(`nbox bridge sweep: ${err.message}\n`);
  process.exitCode = 1;
});
