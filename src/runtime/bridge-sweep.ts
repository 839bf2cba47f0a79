// `node bridge-sweep.js NETWORK_JSON...`: a monitor's exit command. Started as the
// monitor exits, it releases the leases of dead owners (the monitor's among
// them) on those bridges, so a detached container's address, namespace and port
// rules go when it ends rather than at the next nbox command.
import { sweepBridgeLeases, type BridgeNetwork } from './bridge-network';

void Promise.all(process.argv.slice(2).map((arg) => sweepBridgeLeases(JSON.parse(arg) as BridgeNetwork))).catch((err: Error) => {
  process.stderr.write(`nbox bridge sweep: ${err.message}\n`);
  process.exitCode = 1;
});
