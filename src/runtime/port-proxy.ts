// nbox-proxy (native/proxy.c): what answers on a container's IPv6 host ports,
// relaying to its IPv4 address as Docker's docker-proxy does. A detached
// container's monitor starts it (proxySections); a foreground run's nbox does
// (startPortProxy). Either way it ends with the holder of the ports: it reads
// EOF on a pipe whose write end only the holder keeps.
import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';

import { addon } from '../sys/addon';
import { isIpv6Binding, type HeldPorts, type PortBinding } from './ports';

const PROXY_BINARY = join(__dirname, '..', '..', '..', 'build', 'Release', 'nbox-proxy');

/** ProxyPlan is nbox-proxy's argv and, for its k-th port, the index of that port's socket among the held ones. */
export interface ProxyPlan {
  argv: string[];
  socketIndices: number[];
}

/** proxyPlan is the proxy that bindings' IPv6 ones need to reach address; undefined when none is needed. */
export function proxyPlan(bindings: PortBinding[], address: string | undefined): ProxyPlan | undefined {
  const relayed = bindings.flatMap((binding, index) => (isIpv6Binding(binding) ? [{ binding, index }] : []));
  if (address === undefined || relayed.length === 0) return undefined;
  return {
    argv: [PROXY_BINARY, ...relayed.map(({ binding }) => `${binding.protocol}:${address}:${binding.containerPort}`)],
    socketIndices: relayed.map(({ index }) => index),
  };
}

/** proxySections are a monitor spec's proxy and proxyPorts for the held ports (none without IPv6 ones). */
export function proxySections(held: HeldPorts | undefined, address: string | undefined): { proxy?: string[]; proxyPorts?: string[] } {
  const plan = held && proxyPlan(held.bindings, address);
  return plan ? { proxy: plan.argv, proxyPorts: plan.socketIndices.map(String) } : {};
}

/** PortProxy is a running nbox-proxy of this process's. */
export interface PortProxy {
  /** Ends it (its copies of the sockets go with it). */
  stop(): Promise<void>;
}

/** startPortProxy starts the proxy a foreground run's held ports need, or returns undefined when they need none. */
export function startPortProxy(held: HeldPorts, address: string | undefined): PortProxy | undefined {
  const plan = proxyPlan(held.bindings, address);
  if (!plan) return undefined;
  const sys = addon();
  const [lifeline, keep] = sys.pipe();
  let pidfd: number;
  try {
    pidfd = sys.spawnProgram(plan.argv[0], plan.argv, [lifeline, -1, -1, ...plan.socketIndices.map((index) => held.fds[index])]).pidfd;
  } catch (err) {
    closeSync(keep);
    throw err;
  } finally {
    closeSync(lifeline);
  }
  let stopped: Promise<void> | undefined;
  return {
    stop: () => (stopped ??= (async () => {
      sys.kill(pidfd, osConstants.signals.SIGKILL);
      closeSync(keep);
      try {
        await sys.wait(pidfd);
      } finally {
        closeSync(pidfd);
      }
    })()),
  };
}
