// Device numbers as Linux encodes them in a dev_t (st_rdev), 64 bits as glibc's
// gnu_dev_major/gnu_dev_minor/gnu_dev_makedev: major in bits 8..19 and 32..63,
// minor in bits 0..7 and 20..31 and 44..63 (after the low 12 bits of the major).

const LOW_32 = 0xffffffffn;

/** deviceNumbers splits a dev_t (as stat gives it) into [major, minor]. */
export function deviceNumbers(rdev: number | bigint): [number, number] {
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return [Number(major & LOW_32), Number(minor & LOW_32)];
}

/** deviceId joins major and minor into a dev_t, as mknod(2) is given it. */
export function deviceId(major: number, minor: number): bigint {
  const [maj, min] = [BigInt(major) & LOW_32, BigInt(minor) & LOW_32];
  return (min & 0xffn) | ((maj & 0xfffn) << 8n) | ((min & ~0xffn) << 12n) | ((maj & ~0xfffn) << 32n);
}
