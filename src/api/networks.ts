// Network operations of the library API (`docker network …`): `nbox.networks`,
// and `nbox.network()`, a user network for one test that goes at its dispose.
import type { Store } from '../image/store';
import type { ContainerRegistry } from '../runtime/container-registry';
import type { ConnectOptions, NetworkInspect, NetworkPruneResult } from '../runtime/network-ops';
import type { CreateNetworkOptions, NetworkRecord } from '../runtime/user-networks';
import { randomBytes } from 'node:crypto';

/** NetworkApi is every operation on the networks of one open store. */
export class NetworkApi {
  constructor(
    private readonly store: Store,
    private readonly containers: ContainerRegistry,
  ) {}

  private async ops(): Promise<typeof import('../runtime/network-ops')> {
    return import('../runtime/network-ops');
  }

  private get ctx() {
    return { store: this.store, containers: this.containers };
  }

  /** create makes a user network: a bridge of its own, a free /24 from 10.92.0.0 on unless `subnet` says. */
  async create(options: CreateNetworkOptions): Promise<NetworkRecord> {
    return (await this.ops()).createNetwork(this.ctx, options);
  }

  /** list lists the networks (bridge, host, none and the user ones) passing every `key=value` filter (name, id, driver, label, label!, type). */
  async list(options: { filters?: string[] } = {}): Promise<NetworkInspect[]> {
    return (await this.ops()).listNetworks(this.ctx, options.filters ?? []);
  }

  /** inspect is `docker network inspect`'s JSON for one network, by name, ID or ID prefix. */
  async inspect(ref: string): Promise<NetworkInspect> {
    return (await this.ops()).inspectNetwork(this.ctx, ref);
  }

  /** remove removes a user network no running container is on. */
  async remove(ref: string): Promise<void> {
    await (await this.ops()).removeNetwork(this.ctx, ref);
  }

  /** prune removes every user network no running container is on; filters: label, label!. */
  async prune(options: { filters?: string[] } = {}): Promise<NetworkPruneResult> {
    return (await this.ops()).pruneNetworks(this.ctx, options.filters ?? []);
  }

  /** connect puts a container on one more network, with aliases and an address there. */
  async connect(network: string, container: string, options: ConnectOptions = {}): Promise<void> {
    await (await this.ops()).connectNetwork(this.ctx, network, container, options);
  }

  /** disconnect takes a container off a network. */
  async disconnect(network: string, container: string): Promise<void> {
    await (await this.ops()).disconnectNetwork(this.ctx, network, container);
  }
}

/** TestNetwork is a user network a test made: pass its name as a run's `network`; disposing it removes it. */
export class TestNetwork implements AsyncDisposable {
  constructor(
    readonly record: NetworkRecord,
    private readonly api: NetworkApi,
  ) {}

  get name(): string {
    return this.record.name;
  }

  get id(): string {
    return this.record.id;
  }

  /** remove removes the network; its containers must be gone (disposed) first. */
  remove(): Promise<void> {
    return this.api.remove(this.record.id);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }
}

/** testNetwork makes a user network named name, or `nbox-test-` and 12 random hex digits. */
export async function testNetwork(api: NetworkApi, name?: string, options: Omit<CreateNetworkOptions, 'name'> = {}): Promise<TestNetwork> {
  return new TestNetwork(await api.create({ ...options, name: name ?? `nbox-test-${randomBytes(6).toString('hex')}` }), api);
}
