// The networks a container can join, checked here so that a program using
// the library gets the CLI's refusal, not a container on an unknown network.
import { NboxError } from '../errors';

/** NetworkMode is how a container reaches the network: `bridge` is Docker's default network. */
export type NetworkMode = 'none' | 'host' | 'bridge';

/** runNetwork checks `run --network`: an unknown name is refused before anything is made. */
export function runNetwork(name: string | undefined): NetworkMode {
  const mode = name ?? 'bridge';
  if (mode === 'default') return 'bridge';
  if (mode !== 'none' && mode !== 'host' && mode !== 'bridge') throw new NboxError('ERR_NBOX_USAGE', `network ${mode} not found`);
  return mode;
}

/** buildNetwork checks `build --network` (RUN's network): BuildKit's `default` is the host's. */
export function buildNetwork(name: string | undefined): Exclude<NetworkMode, 'bridge'> {
  const mode = name ?? 'default';
  if (mode === 'default' || mode === 'host') return 'host';
  if (mode === 'none') return 'none';
  throw new NboxError('ERR_NBOX_USAGE', `network mode "${mode}" not supported by buildkit (use default, host or none)`);
}
