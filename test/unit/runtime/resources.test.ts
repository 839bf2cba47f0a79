import test from 'ava';

import {
  limitWarnings, parseBytes, parseCpus, parseCpuset, parseUlimit, resourcesFromFlags, validateResources, cpusetText,
} from '../../../src/runtime/resources';

const HOST = { cpus: 2, availableCpus: [0, 1], unified: false };
const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return "";
};

test('parseBytes reads go-units RAMInBytes values: binary units, with or without b/ib', (t) => {
  t.is(parseBytes('8m'), 8 * 1024 * 1024);
  t.is(parseBytes('8MB'), 8 * 1024 * 1024);
  t.is(parseBytes('1.5g'), 1.5 * 1024 ** 3);
  t.is(parseBytes('512'), 512);
  t.is(parseBytes('10b'), 10);
  t.is(parseBytes('2KiB'), 2048);
  t.throws(() => parseBytes('8x'), { message: "invalid size: '8x'" });
  t.throws(() => parseBytes('-1'), { message: "invalid size: '-1'" });
});

test('the flags say what the docker CLI says of a bad value', (t) => {
  t.is(message(() => resourcesFromFlags({ memory: 'abc' })), `invalid argument "abc" for "-m, --memory" flag: invalid size: 'abc'`);
  t.is(message(() => resourcesFromFlags({ cpus: 'abc' })), 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number');
  t.is(message(() => resourcesFromFlags({ pidsLimit: 'x' })), 'invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax');
  t.deepEqual(resourcesFromFlags({ memorySwap: '-1', memory: '1g' }), { memory: 1024 ** 3, memorySwap: -1 });
  t.is(resourcesFromFlags({}), undefined);
});

test('parseCpus is NanoCPUs', (t) => {
  t.is(parseCpus('1.5'), 1.5e9);
  t.is(parseCpus('.5'), 0.5e9);
  t.is(parseCpus('2'), 2e9);
  t.is(parseCpus('0.000000001'), 1);
  t.throws(() => parseCpus('0.0000000001'), { message: /value is too precise/ });
});

test('parseUlimit is go-units ParseUlimit', (t) => {
  t.deepEqual(parseUlimit('nofile=512:1024'), { Name: 'nofile', Soft: 512, Hard: 1024 });
  t.deepEqual(parseUlimit('nproc=64'), { Name: 'nproc', Soft: 64, Hard: 64 });
  t.throws(() => parseUlimit('nofile=1024:1'), { message: 'invalid argument "nofile=1024:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 1024 > 1' });
  t.throws(() => parseUlimit('foo=1'), { message: /invalid ulimit type: foo$/ });
  t.throws(() => parseUlimit('cpu:512:1024'), { message: /invalid ulimit argument: cpu:512:1024$/ });
  t.throws(() => parseUlimit('nofile=1:2:3'), { message: /too many limit value arguments - 1:2:3, can only have up to two, `soft\[:hard\]`$/ });
});

test('validateResources applies the daemon checks, with its words', (t) => {
  t.is(message(() => validateResources({ memory: 4 * 1024 * 1024 }, HOST)), 'Minimum memory limit allowed is 6MB');
  t.is(message(() => validateResources({ memorySwap: 64 << 20 }, HOST)), 'You should always set the Memory limit when using Memoryswap limit, see usage');
  t.is(message(() => validateResources({ memory: 64 << 20, memorySwap: 32 << 20 }, HOST)), 'Minimum memoryswap limit should be larger than memory limit, see usage');
  t.is(message(() => validateResources({ memory: 8 << 20, memoryReservation: 16 << 20 }, HOST)), 'Minimum memory limit can not be less than memory reservation limit, see usage');
  t.is(message(() => validateResources({ nanoCpus: 3e9 }, HOST)), 'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
  t.is(message(() => validateResources({ cpusetCpus: '0-3' }, HOST)), 'Requested CPUs are not available - requested 0-3, available: 0-1');
  t.is(message(() => validateResources({ cpusetCpus: 'a' }, HOST)), 'Invalid value a for cpuset cpus');
  t.is(message(() => validateResources({ cgroupParent: '../../escape' }, HOST)), 'invalid cgroup parent: ../../escape');
  // As the daemon: -m alone gives twice as much memory plus swap.
  t.deepEqual(validateResources({ memory: 8 << 20 }, HOST), { memory: 8 << 20, memorySwap: 16 << 20 });
});

test('cpuset lists', (t) => {
  t.deepEqual(parseCpuset('0-2,4'), [0, 1, 2, 4]);
  t.is(parseCpuset('2-1'), null);
  t.is(cpusetText([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
});

test("--oom-kill-disable: the daemon's warnings, and discarded on v2", (t) => {
  t.deepEqual(limitWarnings({ oomKillDisable: true }, false), ["WARNING: Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous."]);
  t.deepEqual(limitWarnings({ oomKillDisable: true, memory: 8 << 20 }, false), []);
  t.deepEqual(limitWarnings({ oomKillDisable: true, memory: 8 << 20 }, true), ['WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.']);
  t.false('oomKillDisable' in validateResources({ oomKillDisable: true }, { ...HOST, unified: true }));
  t.true(validateResources({ oomKillDisable: true }, HOST).oomKillDisable);
});
