// Which extended attributes COPY carries from a stage's rootfs or the base image.
import { addon } from '../sys/addon';

// Overlay's own markers (opaque, origin, redirect) describe the source layer's
// position in its stack, not the file; an opaque marker copied into the new
// layer would hide the whole directory below it. SELinux labels belong to the host.
const SKIPPED_PREFIXES = ['trusted.overlay.', 'user.overlay.', 'security.selinux'];

/** copiedXattrNames lists a file's extended attributes that a copy keeps, sorted. */
export function copiedXattrNames(path: string): string[] {
  return addon()
    .llistxattr(path)
    .filter((name) => !SKIPPED_PREFIXES.some((prefix) => name.startsWith(prefix)))
    .sort();
}
