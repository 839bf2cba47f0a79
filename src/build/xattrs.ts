// Which extended attributes COPY carries from a stage's rootfs or the base image.
import { keepXattr } from '../image/tar/writer';
import { addon } from '../sys/addon';

/** copiedXattrNames lists a file's extended attributes that a copy keeps, sorted. */
export function copiedXattrNames(path: string): string[] {
  return addon()
    .llistxattr(path)
    .filter(keepXattr)
    .sort();
}
