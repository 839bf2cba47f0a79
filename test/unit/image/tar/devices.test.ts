import test from 'ava';
import { deviceId, deviceNumbers } from '../../../../src/image/tar/devices';

// dev_t values as glibc's makedev gives them (Python's os.makedev on this machine).
const GLIBC: Array<[number, number, bigint]> = [
  [1, 3, 0x103n],
  [8, 1, 0x801n],
  [300, 70000, 0x11112c70n],
  [4095, 1048575, 0xffffffffn],
  [4096, 0, 0x100000000000n],
  [5000, 1048575, 0x1000fff388ffn],
  [65535, 1 << 20, 0xf001000fff00n],
  [0x7fffffff, 0x7fffffff, 0x7ffff7ffffffffffn],
];

for (const [major, minor, dev] of GLIBC) {
  test(`${major}:${minor} encodes as glibc's makedev and decodes back`, (t) => {
    t.is(deviceId(major, minor), dev);
    t.deepEqual(deviceNumbers(dev), [major, minor]);
  });
}

test('majors and minors past 255 and 4095 round-trip, from a number as stat gives it too', (t) => {
  for (const major of [0, 255, 256, 4095, 4096, 65535, 1 << 20]) {
    for (const minor of [0, 255, 256, 4095, 4096, (1 << 20) - 1, 1 << 20, 0xffffffff]) {
      t.deepEqual(deviceNumbers(deviceId(major, minor)), [major, minor], `${major}:${minor}`);
      const dev = deviceId(major, minor);
      if (dev <= BigInt(Number.MAX_SAFE_INTEGER)) t.deepEqual(deviceNumbers(Number(dev)), [major, minor], `${major}:${minor} as a number`);
    }
  }
});

test('the largest 32-bit major and minor round-trip', (t) => {
  t.deepEqual(deviceNumbers(deviceId(0xffffffff, 0xffffffff)), [0xffffffff, 0xffffffff]);
  t.is(deviceId(0xffffffff, 0xffffffff), 0xffffffffffffffffn);
});
