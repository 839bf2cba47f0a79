import test from 'ava';

import { tableScript } from '../../../src/runtime/nft';
import { peerBlock, withPeerBlock } from '../../../src/runtime/peer-hosts';

const BASE = '127.0.0.1\tlocalhost\n10.93.1.2\tabc\n';

test('a network\'s block of names is added, replaced and removed without touching the rest of /etc/hosts', (t) => {
  const one = withPeerBlock(BASE, 'a', peerBlock('a', [{ address: '10.93.1.2', names: ['web', 'abc', 'www'] }]));
  t.is(one, `${BASE}# nbox network a\n10.93.1.2\tweb abc www\n# end nbox network a\n`);
  const two = withPeerBlock(one, 'b', peerBlock('b', [{ address: '10.92.0.3', names: ['web'] }]));
  const replaced = withPeerBlock(two, 'a', peerBlock('a', [{ address: '10.93.1.2', names: ['web'] }, { address: '10.93.1.3', names: ['db'] }]));
  t.is(replaced, `${BASE}# nbox network b\n10.92.0.3\tweb\n# end nbox network b\n# nbox network a\n10.93.1.2\tweb\n10.93.1.3\tdb\n# end nbox network a\n`);
  t.is(withPeerBlock(withPeerBlock(replaced, 'a', ''), 'b', ''), BASE);
});

test('a user network\'s table drops traffic to and from the other nbox bridges; a published port is reached across them; an internal one has no way out and no masquerade', (t) => {
  const nat = { table: 'nbox_abc', bridge: 'nbox-abc', subnet: '10.93.1.0/24' };
  const isolated = tableScript({ ...nat, isolation: { others: ['nbox-*', 'nbox0'], internal: false } }, []);
  t.true(isolated.includes('iifname "nbox-abc" oifname != "nbox-abc" oifname "nbox-*" drop'));
  t.true(isolated.includes('oifname "nbox-abc" iifname != "nbox-abc" iifname "nbox0" drop'));
  t.true(isolated.includes('ip saddr 10.93.1.0/24 ip daddr != 10.93.1.0/24 masquerade'));
  // Drops come before the forward chain's accepts; a connection to a published port (DNATed) passes them, as in Docker.
  const forward = (script: string) => script.slice(script.indexOf('chain forward'));
  t.true(forward(isolated).indexOf('drop') < forward(isolated).indexOf('oifname "nbox-abc" accept'));
  t.true(forward(isolated).indexOf('ct status dnat accept') < forward(isolated).indexOf('drop'));
  const internal = tableScript({ ...nat, isolation: { others: ['nbox-*'], internal: true } }, []);
  t.true(internal.includes('iifname "nbox-abc" oifname != "nbox-abc" drop'));
  t.false(internal.includes('ct status dnat accept'), 'nothing reaches an internal network from outside it');
  t.false(internal.includes('ip daddr != 10.93.1.0/24 masquerade'));
  t.false(forward(tableScript(nat, [])).includes('drop'), 'the default bridge keeps its rules');
  // Every table drops what comes from its bridge for the host's loopback (route_localnet is on for published 127.0.0.1 ports).
  for (const script of [isolated, internal, tableScript(nat, [])]) t.true(script.includes('iifname "nbox-abc" ip daddr 127.0.0.0/8 drop'));
});
