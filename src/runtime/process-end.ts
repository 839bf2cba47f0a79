// The end of a command-line process over nbox, once its work and output are done.
import { loadedAddon } from '../sys/addon';

/** endProcessNow ends this process at once with code (_exit) when nbox's addon is loaded, and returns
 * otherwise: Node's own exit would first tear down its heap and platform, for memory the kernel takes back. */
export function endProcessNow(code: number): void {
  loadedAddon()?.exitNow(code);
}
