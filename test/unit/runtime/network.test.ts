import test from 'ava';

import { NboxError } from '../../../src/errors';
import { buildNetwork, checkDns, checkDnsSearch, checkLineFields, parseAddHost, runNetwork } from '../../../src/runtime/network';
import { containerResolvConf, hostsFile, resolvConf } from '../../../src/runtime/etc-files';

test('run: the bridge by default (also as `default`), none and host on request, a user network by name, a name no network has refused as Docker words it', (t) => {
  t.is(runNetwork(undefined), 'bridge');
  t.is(runNetwork('default'), 'bridge');
  t.is(runNetwork('none'), 'none');
  t.is(runNetwork('host'), 'host');
  t.is(runNetwork('backend'), 'backend');
  const err = t.throws(() => runNetwork('no/such'), { instanceOf: NboxError });
  t.is(err?.code, 'ERR_NBOX_USAGE');
  t.is(err?.message, 'network no/such not found');
});

test("build: BuildKit's default is the host's network; none; any other name refused", (t) => {
  t.is(buildNetwork(undefined), 'host');
  t.is(buildNetwork('default'), 'host');
  t.is(buildNetwork('none'), 'none');
  t.throws(() => buildNetwork('bridge'), { message: 'network mode "bridge" not supported by buildkit (use default, host or none)' });
});

test('--add-host NAME:IP (or NAME=IP, host-gateway the bridge gateway), refused as Docker words it', (t) => {
  t.deepEqual(parseAddHost('db:10.1.2.3', '10.90.0.1'), { name: 'db', address: '10.1.2.3' });
  t.deepEqual(parseAddHost('db=::1', '10.90.0.1'), { name: 'db', address: '::1' });
  t.deepEqual(parseAddHost('gw:host-gateway', '10.90.0.1'), { name: 'gw', address: '10.90.0.1' });
  t.throws(() => parseAddHost('foo', '10.90.0.1'), { message: 'invalid argument "foo" for "--add-host" flag: bad format for add-host: "foo"' });
  t.throws(() => parseAddHost('h:1.2.3', '10.90.0.1'), { message: 'invalid argument "h:1.2.3" for "--add-host" flag: invalid IP address in add-host: "1.2.3"' });
  t.throws(() => checkDns(['9.9.9.9', 'x']), { message: 'invalid argument "x" for "--dns" flag: x is not an ip address' });
});

test('/etc/hosts on the bridge names the container at its address after --add-host entries; --dns replaces the nameservers', async (t) => {
  const hosts = await hostsFile('bridge', 'web', '10.90.0.2', [{ name: 'db', address: '10.1.2.3' }]);
  t.true(hosts.endsWith('ff02::2\tip6-allrouters\n10.1.2.3\tdb\n10.90.0.2\tweb\n'));
  const resolv = await resolvConf('bridge', { servers: ['9.9.9.9'], search: ['example.org'] });
  t.regex(resolv, /^nameserver 9\.9\.9\.9\nsearch example\.org\n/);
  t.false(/nameserver (?!9\.9\.9\.9)/.test(resolv));
});

test("a host naming only systemd-resolved's 127.0.0.53: the bridge and a user network get its upstream servers, else Docker's defaults; none gets no server", (t) => {
  const host = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n';
  const defaults = 'options edns0 trust-ad\nsearch lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n';
  t.is(containerResolvConf('bridge', {}, { host, upstream: '' }), defaults);
  t.is(containerResolvConf('backend', {}, { host, upstream: '' }), defaults);
  t.is(containerResolvConf('backend', {}, { host, upstream: 'nameserver 192.0.2.53\nsearch lan\n' }), 'options edns0 trust-ad\nsearch lan\nnameserver 192.0.2.53\n');
  t.is(containerResolvConf('none', {}, { host, upstream: '' }), 'options edns0 trust-ad\nsearch lan\n');
  t.is(containerResolvConf('host', {}, { host, upstream: '' }), host);
  // --dns-search alone keeps the servers the container would have had, not the host's loopback one.
  t.is(containerResolvConf('backend', { search: ['example.test'] }, { host, upstream: '' }), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch example.test\noptions edns0 trust-ad\n');
  t.is(containerResolvConf('backend', { servers: ['10.1.2.3'] }, { host, upstream: '' }), 'nameserver 10.1.2.3\nsearch lan\noptions edns0 trust-ad\n');
  // --dns-option replaces the options line, as Docker's.
  t.is(containerResolvConf('bridge', { options: ['ndots:2', 'timeout:1'] }, { host, upstream: '' }), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch lan\noptions ndots:2 timeout:1\n');
});

test('--dns-search takes domains (a trailing dot and blanks too) and `.`, as Docker; --hostname and aliases no blank or control character', (t) => {
  t.deepEqual(checkDnsSearch(['example.test', 'a-b.c.', '.', 'x ']), ['example.test', 'a-b.c.', '.', 'x ']);
  for (const bad of ['-a.test', 'a..b', 'a_b', 'x\nnameserver 1.2.3.4', 'a'.repeat(256)]) t.throws(() => checkDnsSearch([bad]), { message: /for "--dns-search" flag: .* is not a valid domain$/ });
  t.deepEqual(checkLineFields('--dns-option', ['ndots:2 edns0'], 'allowed'), ['ndots:2 edns0']);
  t.throws(() => checkLineFields('--network-alias', ['a b']), { message: 'invalid argument "a b" for "--network-alias" flag: no blank or control character may appear in it' });
  t.throws(() => checkLineFields('--hostname', ['']), { message: 'invalid argument "" for "--hostname" flag: an empty value' });
  t.throws(() => parseAddHost('a\tb:1.2.3.4', '10.90.0.1'), { message: 'invalid argument "a\\tb:1.2.3.4" for "--add-host" flag: bad format for add-host: "a\\tb:1.2.3.4"' });
});
