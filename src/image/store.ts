// The store as the engine passes it around: one open of NBOX_ROOT, and its
// three parts (the root's disk operations, images and their names, layers).
import { StoreRoot } from '../store/root';
import { Images } from './images';
import { Layers } from './layers';

/** Store is an opened nbox store. */
export class Store {
  private constructor(
    readonly root: StoreRoot,
    readonly images: Images,
    readonly layers: Layers,
  ) {}

  /** open opens (creating if needed) the store at root; see StoreRoot.open. */
  static async open(root: string): Promise<Store> {
    const storeRoot = await StoreRoot.open(root);
    const layers = new Layers(storeRoot);
    return new Store(storeRoot, new Images(storeRoot, layers), layers);
  }
}
