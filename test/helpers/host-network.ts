// What integration tests of published ports share: a free host port, a GET, and the
// removal of a test file's own bridge (NBOX_BRIDGE) with all a failed test left.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';

const NETWORK_STATE = '/run/nbox/networks';

/** freePort is a TCP port of 127.0.0.1 that no socket held a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** removeTestBridge removes the bridge's namespace mounts and lease files, its link and its nftables table. */
export function removeTestBridge(bridge: string): void {
  for (const name of existsSync(NETWORK_STATE) ? readdirSync(NETWORK_STATE) : []) {
    if (!name.startsWith(bridge)) continue;
    try {
      execFileSync('umount', ['-l', `${NETWORK_STATE}/${name}`], { stdio: 'ignore' });
    } catch {
      // Not a mount (a lease file, or already gone).
    }
    rmSync(`${NETWORK_STATE}/${name}`, { force: true });
  }
  for (const command of [['ip', 'link', 'del', bridge], ['nft', 'delete', 'table', 'ip', `nbox_${bridge}`]]) {
    try {
      execFileSync(command[0], command.slice(1), { stdio: 'ignore' });
    } catch {
      // Gone already.
    }
  }
}

/** hostHasIpv6 says whether this host has IPv6's loopback (::1): else nbox publishes on IPv4 alone. */
export function hostHasIpv6(): boolean {
  try {
    return readFileSync('/proc/net/if_inet6', 'utf8').split('\n').some((line) => line.startsWith('00000000000000000000000000000001 '));
  } catch {
    return false;
  }
}

/** httpGet fetches http://127.0.0.1:port/, or http://[::1]:port/ (the loopback addresses, the only ones tests send to from the host). */
export function httpGet(port: number, host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host, port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: { destroy(): void }) {
      this.destroy();
    });
  });
}
