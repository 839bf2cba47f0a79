import test from 'ava';

import { NboxError } from '../../../src/errors';
import { bindingsClash, exposeKeys, formatPortLines, formatPorts, parsePublish, portRequests, exposedPorts } from '../../../src/runtime/ports';
import { proxyPlan } from '../../../src/runtime/port-proxy';
import { tableScript } from '../../../src/runtime/nft';

test('-p forms read as Docker reads them', (t) => {
  t.deepEqual(parsePublish('8080:80'), [{ protocol: 'tcp', hostIp: '', hostPort: 8080, containerPort: 80 }]);
  t.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ protocol: 'udp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 }]);
  t.deepEqual(parsePublish('80'), [{ protocol: 'tcp', hostIp: '', hostPort: 0, containerPort: 80 }]);
  t.deepEqual(parsePublish('127.0.0.1::80'), [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0, containerPort: 80 }]);
  // As Docker 20.10.2 on: 0.0.0.0 named is IPv4's alone; no address is both families'.
  t.deepEqual(parsePublish('0.0.0.0:53:53/UDP'), [{ protocol: 'udp', hostIp: '0.0.0.0', hostPort: 53, containerPort: 53 }]);
  t.deepEqual(parsePublish('[::1]:8080:80'), [{ protocol: 'tcp', hostIp: '::1', hostPort: 8080, containerPort: 80 }]);
  t.deepEqual(parsePublish('[::]::80/udp'), [{ protocol: 'udp', hostIp: '::', hostPort: 0, containerPort: 80 }]);
  // Without brackets, the address is all but the last two parts.
  t.deepEqual(parsePublish('::1:8080:80'), [{ protocol: 'tcp', hostIp: '::1', hostPort: 8080, containerPort: 80 }]);
});

test('-p ranges: one length maps port to port, a host range for one container port is where a free one is taken', (t) => {
  t.deepEqual(parsePublish('8000-8001:80-81'), [
    { protocol: 'tcp', hostIp: '', hostPort: 8000, containerPort: 80 }, { protocol: 'tcp', hostIp: '', hostPort: 8001, containerPort: 81 },
  ]);
  t.deepEqual(parsePublish('127.0.0.1:8000-8010:80/udp'), [{ protocol: 'udp', hostIp: '127.0.0.1', hostPort: 8000, containerPort: 80, hostPortEnd: 8010 }]);
  t.deepEqual(parsePublish('80-81').map((request) => [request.hostPort, request.containerPort]), [[0, 80], [0, 81]]);
  t.deepEqual(exposeKeys('7000-7002'), ['7000/tcp', '7001/tcp', '7002/tcp']);
  t.deepEqual(exposeKeys('53/UDP'), ['53/udp']);
  for (const [spec, message] of [['7000-x', 'invalid range format for --expose: 7000-x'], ['80/sctpx', 'invalid range format for --expose: 80/sctpx']]) {
    t.is(t.throws(() => exposeKeys(spec), { instanceOf: NboxError })?.message, message);
  }
});

test('bindings clash within a family, and a request without an address with both', (t) => {
  const at = (hostIp: string, protocol: 'tcp' | 'udp' = 'tcp') => ({ protocol, hostIp, hostPort: 8080, containerPort: 80 });
  t.true(bindingsClash(at('0.0.0.0'), at('127.0.0.1')));
  t.true(bindingsClash(at('::'), at('::1')));
  t.true(bindingsClash(at(''), at('::1')));
  t.false(bindingsClash(at('0.0.0.0'), at('::')));
  t.false(bindingsClash(at('127.0.0.1'), at('::1')));
  t.false(bindingsClash(at('127.0.0.1'), at('127.0.0.2')));
  t.false(bindingsClash(at('0.0.0.0'), at('0.0.0.0', 'udp')));
  t.false(bindingsClash(at('0.0.0.0'), { ...at('0.0.0.0'), hostPort: 8081 }));
});

test('the pair a request without an address made is one request again (HostConfig.PortBindings)', (t) => {
  const pair = [
    { protocol: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, unspecified: true },
    { protocol: 'tcp' as const, hostIp: '::', hostPort: 8080, containerPort: 80, unspecified: true },
    { protocol: 'udp' as const, hostIp: '::1', hostPort: 53, containerPort: 53 },
  ];
  t.deepEqual(portRequests(pair), [
    { protocol: 'tcp', hostIp: '', hostPort: 8080, containerPort: 80 },
    { protocol: 'udp', hostIp: '::1', hostPort: 53, containerPort: 53 },
  ]);
});

test('bad -p values are refused with the daemon words, as usage errors', (t) => {
  for (const [spec, message] of [
    ['abc', 'invalid containerPort: abc'], ['8080:0', 'invalid containerPort: 0'], ['x:80', 'invalid hostPort: x'],
    ['99999:80', 'invalid hostPort: 99999'], ['80/sctpx', 'invalid proto: sctpx'], ['1.2.3:80:80', 'invalid IP address: 1.2.3'],
    ['1:2:3:4', 'invalid IP address: 1:2'], ['[fe80::zz]:1:80', 'invalid IP address: [fe80::zz]'],
    ['8000-8001:80-82', 'invalid ranges specified for container and host Ports: 80-82 and 8000-8001'], ['81-80', 'invalid containerPort: 81-80'],
    ['8080:', 'no port specified: 8080:<empty>'], ['1-2-3:80', 'invalid hostPort: 1-2-3'],
  ]) {
    const err = t.throws(() => parsePublish(spec), { instanceOf: NboxError }, spec);
    t.is(err?.message, message);
    t.is(err?.code, 'ERR_NBOX_USAGE');
  }
});

test('-P takes the image ExposedPorts; port and ps write bindings as Docker does', (t) => {
  t.deepEqual(exposedPorts({ '80/tcp': {}, '53/udp': {} }).map((port) => `${port.containerPort}/${port.protocol}:${port.hostPort}`), ['80/tcp:0', '53/udp:0']);
  const bindings = [
    { protocol: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80 }, { protocol: 'tcp' as const, hostIp: '::', hostPort: 8080, containerPort: 80 },
    { protocol: 'udp' as const, hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53 },
  ];
  t.is(formatPorts(bindings), '127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
  t.deepEqual(formatPortLines(bindings), ['80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080', '53/udp -> 127.0.0.1:5353']);
});

test("nft: one table of nbox's own, rebuilt whole; a port DNATs from outside and from the host, loopback sources masqueraded", (t) => {
  const script = tableScript({ table: 'nbox', bridge: 'nbox0', subnet: '10.90.0.0/16' }, [
    { protocol: 'tcp', hostIp: '', hostPort: 8080, address: '10.90.0.2', containerPort: 80 },
    { protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353, address: '10.90.0.3', containerPort: 53 },
    { protocol: 'tcp', hostIp: '::', hostPort: 8080, address: '10.90.0.2', containerPort: 80 },
  ]);
  // IPv6 is nbox-proxy's: an ip table has no element for it.
  t.is(script.match(/8080/g)?.length, 1);
  t.true(script.startsWith('add table ip nbox\ndelete table ip nbox\ntable ip nbox {'));
  t.regex(script, /map dnat_any \{\n\s*type inet_proto \. inet_service : ipv4_addr \. inet_service\n\s*elements = \{ tcp \. 8080 : 10\.90\.0\.2 \. 80 \}/);
  t.regex(script, /map dnat_address \{\n[^\n]*\n\s*elements = \{ 127\.0\.0\.1 \. udp \. 5353 : 10\.90\.0\.3 \. 53 \}/);
  t.regex(script, /chain ports \{\n\s*fib daddr type local dnat ip to meta l4proto \. th dport map @dnat_any\n\s*dnat ip to ip daddr \. meta l4proto \. th dport map @dnat_address\n/);
  // With no port, the maps are empty: nft refuses an empty element list.
  t.false(tableScript({ table: 'nbox', bridge: 'nbox0', subnet: '10.90.0.0/16' }, []).includes('elements'));
  t.regex(script, /type nat hook output[^\n]*\n\s*jump ports/);
  t.regex(script, /type nat hook prerouting[^\n]*\n\s*jump ports/);
  t.regex(script, /oifname "nbox0" ip saddr 127\.0\.0\.0\/8 masquerade/);
  t.regex(script, /ip saddr 10\.90\.0\.0\/16 ip daddr != 10\.90\.0\.0\/16 masquerade/);
});

test("nbox-proxy relays a container's IPv6 bindings alone, each to its address, its socket named by index", (t) => {
  const bindings = [
    { protocol: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80 }, { protocol: 'tcp' as const, hostIp: '::', hostPort: 8080, containerPort: 80 },
    { protocol: 'udp' as const, hostIp: '::1', hostPort: 5353, containerPort: 53 },
  ];
  const plan = proxyPlan(bindings, '10.90.0.2');
  t.deepEqual(plan?.argv.slice(1), ['tcp:10.90.0.2:80', 'udp:10.90.0.2:53']);
  t.regex(plan?.argv[0] ?? '', /\/build\/Release\/nbox-proxy$/);
  t.deepEqual(plan?.socketIndices, [1, 2]);
  t.is(proxyPlan(bindings.slice(0, 1), '10.90.0.2'), undefined);
  // No address (the host's network): nothing to relay to.
  t.is(proxyPlan(bindings, undefined), undefined);
});

test("ps's PORTS as the docker CLI writes them: sorted, runs of same-number ports as one range, other mappings last", (t) => {
  const at = (hostIp: string, hostPort: number, containerPort: number, protocol: 'tcp' | 'udp' = 'tcp') => ({ protocol, hostIp, hostPort, containerPort });
  t.is(formatPorts([at('::', 8080, 80), at('0.0.0.0', 8080, 80)]), '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
  t.is(formatPorts([at('0.0.0.0', 8001, 8001), at('::', 8000, 8000), at('0.0.0.0', 8000, 8000), at('::', 8001, 8001)]),
    '0.0.0.0:8000-8001->8000-8001/tcp, [::]:8000-8001->8000-8001/tcp');
  t.is(formatPorts([at('0.0.0.0', 9090, 81), at('127.0.0.1', 80, 80), at('0.0.0.0', 53, 53, 'udp')], ['443/tcp', '80/tcp']),
    '0.0.0.0:53->53/udp, 127.0.0.1:80->80/tcp, 443/tcp, 0.0.0.0:9090->81/tcp');
  // A gap ends a range.
  t.is(formatPorts([at('0.0.0.0', 1, 1), at('0.0.0.0', 2, 2), at('0.0.0.0', 4, 4)]), '0.0.0.0:1-2->1-2/tcp, 0.0.0.0:4->4/tcp');
});
