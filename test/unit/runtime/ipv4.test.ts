import test from 'ava';

import { contains, formatAddress, formatSubnet, overlaps, parseAddress, parseProcRoutes, parseSubnet } from '../../../src/runtime/ipv4';

test('addresses and subnets read and write back; a subnet starts at its block', (t) => {
  t.is(parseAddress('10.90.0.1'), 10 * 2 ** 24 + 90 * 2 ** 16 + 1);
  t.is(formatAddress(parseAddress('255.255.255.255')!), '255.255.255.255');
  for (const bad of ['10.90.0', '10.90.0.256', '10.90.0.x', '1.2.3.4.5']) t.is(parseAddress(bad), undefined, bad);
  t.is(formatSubnet(parseSubnet('10.90.3.7/16')!), '10.90.0.0/16');
  for (const bad of ['10.90.0.0', '10.90.0.0/33', '10.90.0.0/16/1']) t.is(parseSubnet(bad), undefined, bad);
  t.true(contains(parseSubnet('10.90.0.0/16')!, parseAddress('10.90.255.254')!));
  t.false(contains(parseSubnet('10.90.0.0/16')!, parseAddress('10.91.0.1')!));
});

test("the default subnet overlaps neither podman's nor Docker's; overlap is seen both ways", (t) => {
  const own = parseSubnet('10.90.0.0/16')!;
  t.false(overlaps(own, parseSubnet('10.88.0.0/16')!));
  t.false(overlaps(own, parseSubnet('172.17.0.0/16')!));
  t.true(overlaps(own, parseSubnet('10.90.4.0/24')!));
  t.true(overlaps(parseSubnet('10.0.0.0/8')!, own));
});

test('/proc/net/route is read as interface and block (little-endian hex)', (t) => {
  const text = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n'
    + 'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n'
    + 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
  t.deepEqual(parseProcRoutes(text).map((route) => `${route.iface} ${formatSubnet(route.subnet)}`), ['eth0 0.0.0.0/0', 'eth0 192.0.2.0/24']);
});
