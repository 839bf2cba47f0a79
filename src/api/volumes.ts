// Volume operations of the library API (`docker volume …`): `nbox.volumes`.
import type { Store } from '../image/store';
import type { ContainerRegistry } from '../runtime/container-registry';
import type { UsageLine } from '../image/disk-usage';
import type { CreateVolumeOptions, VolumeInspect, VolumePruneResult } from '../runtime/volume-ops';
import type { VolumeRecord } from '../runtime/volumes';


/** VolumeApi is every operation on the volumes of one open store. */
export class VolumeApi {
  constructor(
    private readonly store: Store,
    private readonly containers: ContainerRegistry,
  ) {}

  private async ops(): Promise<typeof import('../runtime/volume-ops')> {
    return import('../runtime/volume-ops');
  }

  private get ctx() {
    return { store: this.store, containers: this.containers };
  }

  /** create makes a volume, or returns the existing one of that name, as Docker does. */
  async create(options: CreateVolumeOptions = {}): Promise<VolumeRecord> {
    return (await this.ops()).createVolume(this.ctx, options);
  }

  /** list lists volumes by name, those passing every `key=value` filter (name, driver, label, label!, dangling). */
  async list(options: { filters?: string[] } = {}): Promise<VolumeRecord[]> {
    return (await this.ops()).listVolumes(this.ctx, options.filters ?? []);
  }

  /** inspect is `docker volume inspect`'s JSON for one volume. */
  async inspect(name: string): Promise<VolumeInspect> {
    const { volumeInspect, volumeStore, sweepRemovedWith } = await this.ops();
    await sweepRemovedWith(this.ctx);
    return volumeInspect(await volumeStore(this.ctx).get(name));
  }

  /** remove removes a volume no container uses; with force, a missing one is no error. */
  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    const { removeVolume, sweepRemovedWith } = await this.ops();
    await sweepRemovedWith(this.ctx);
    await removeVolume(this.ctx, name, options.force ?? false);
  }

  /** prune removes the unused anonymous volumes, or with all every unused volume; filters: label, label!, all. */
  async prune(options: { all?: boolean; filters?: string[] } = {}): Promise<VolumePruneResult> {
    return (await this.ops()).pruneVolumes(this.ctx, options.all ?? false, options.filters ?? []);
  }

  /** usage is the Local Volumes line of `docker system df`: volumes, those in use, their bytes, and the unused ones' bytes. */
  async usage(): Promise<UsageLine> {
    return (await this.ops()).volumeUsage(this.ctx);
  }
}
