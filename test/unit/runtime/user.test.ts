import test from 'ava';
import { NboxError } from '../../../src/errors';
import { parseGroup, parsePasswd, parseUserSpec, resolveUser } from '../../../src/runtime/user';

// The busybox-style image of runtime.md §3.1 (root, nobody, app:1000) plus a few
// group memberships to exercise supplementary groups.
const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'app:x:1000:1000:App:/home/app:/bin/sh',
  'nohome:x:1001:1001:No Home::/bin/sh',
].join('\n');
const group = [
  'root:x:0:root',
  'daemon:x:1:',
  'wheel:x:10:root,app',
  'audio:x:29:app',
  'nogroup:x:65534:',
  'app:x:1000:',
  'staff:x:50:nobody,app',
].join('\n');

function userError(run: () => unknown, message: string) {
  return (t: import('ava').ExecutionContext) => {
    const error = t.throws(run, { instanceOf: NboxError, message });
    t.is(error?.code, 'ERR_NBOX_USER');
  };
}

test('parseUserSpec splits user and group', (t) => {
  t.deepEqual(parseUserSpec(''), { user: '' });
  t.deepEqual(parseUserSpec('app'), { user: 'app' });
  t.deepEqual(parseUserSpec('1000:audio'), { user: '1000', group: 'audio' });
  t.deepEqual(parseUserSpec('app:'), { user: 'app' });
  t.deepEqual(parseUserSpec(':audio'), { user: '', group: 'audio' });
});

test('parseUserSpec rejects more than one colon', userError(() => parseUserSpec('a:b:c'), 'invalid USER value a:b:c'));

test('an empty USER is root with root\'s groups', (t) => {
  t.deepEqual(resolveUser('', passwd, group), { uid: 0, gid: 0, groups: [0, 10], home: '/root', name: 'root' });
});

test('an empty USER without passwd or group files is still root', (t) => {
  t.deepEqual(resolveUser('', null, null), { uid: 0, gid: 0, groups: [0], home: '/' });
});

test('a name takes uid, gid, HOME and member groups from the files', (t) => {
  t.deepEqual(resolveUser('app', passwd, group), { uid: 1000, gid: 1000, groups: [1000, 10, 29, 50], home: '/home/app', name: 'app' });
});

test('a missing name is an error', userError(() => resolveUser('nosuch', passwd, group), 'unable to find user nosuch: no matching entries in passwd file'));

test('a name with no passwd file is an error', userError(() => resolveUser('app', null, group), 'unable to find user app: no matching entries in passwd file'));

test('a known uid takes its passwd gid', (t) => {
  t.deepEqual(resolveUser('1000', passwd, group), { uid: 1000, gid: 1000, groups: [1000, 10, 29, 50], home: '/home/app', name: 'app' });
});

test('an unknown uid runs with gid 0, HOME / and no error', (t) => {
  t.deepEqual(resolveUser('4242', passwd, group), { uid: 4242, gid: 0, groups: [0], home: '/' });
});

test('uid:gid numbers are used as given, with HOME of a known uid and no member groups (runc)', (t) => {
  t.deepEqual(resolveUser('1000:29', passwd, group), { uid: 1000, gid: 29, groups: [29], home: '/home/app', name: 'app' });
  t.deepEqual(resolveUser('4242:4243', passwd, group), { uid: 4242, gid: 4243, groups: [4243], home: '/' });
  t.deepEqual(resolveUser('4242:4243', null, null), { uid: 4242, gid: 4243, groups: [4243], home: '/' });
});

test('user:group names resolve through both files', (t) => {
  t.deepEqual(resolveUser('app:audio', passwd, group), { uid: 1000, gid: 29, groups: [29], home: '/home/app', name: 'app' });
  t.deepEqual(resolveUser('nobody:daemon', passwd, group), { uid: 65534, gid: 1, groups: [1], home: '/nonexistent', name: 'nobody' });
});

test('mixed numeric and named sides resolve independently', (t) => {
  t.deepEqual(resolveUser('app:50', passwd, group).gid, 50);
  t.deepEqual(resolveUser('4242:wheel', passwd, group), { uid: 4242, gid: 10, groups: [10], home: '/' });
});

test('an empty user with a group is root in that group', (t) => {
  t.deepEqual(resolveUser(':audio', passwd, group), { uid: 0, gid: 29, groups: [29], home: '/root', name: 'root' });
});

test('an unknown group name is an error', userError(() => resolveUser('app:nosuch', passwd, group), 'unable to find group nosuch: no matching entries in group file'));

test('a group name with no group file is an error', userError(() => resolveUser('app:audio', passwd, null), 'unable to find group audio: no matching entries in group file'));

test('the primary gid is always a supplementary group (CVE-2022-2989)', (t) => {
  // app is not listed as a member of its own primary group "app".
  t.true(resolveUser('app', passwd, group).groups.includes(1000));
  t.true(resolveUser('4242:777', passwd, group).groups.includes(777));
});

test('extra groups (--group-add) are added by name or number, sorted and deduplicated', (t) => {
  t.deepEqual(resolveUser('app', passwd, group, ['audio', '7', 'nogroup', '1000', '7']).groups, [1000, 7, 10, 29, 50, 65534]);
});

test('an unknown extra group name is an error', userError(() => resolveUser('app', passwd, group, ['video']), 'unable to find group video: no matching entries in group file'));

test('an empty passwd home falls back to /', (t) => {
  t.is(resolveUser('nohome', passwd, group).home, '/');
});

test('the first passwd entry for a uid wins', (t) => {
  const twice = 'toor:x:0:0::/toor:/bin/sh\nroot:x:0:0::/root:/bin/sh';
  t.deepEqual(resolveUser('0', twice, null), { uid: 0, gid: 0, groups: [0], home: '/toor', name: 'toor' });
});

test('numeric USER values are ids even when a user has that name', (t) => {
  t.is(resolveUser('1000', '1000:x:5:5::/x:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh', null).name, 'app');
});

const badIds = ['-1', '4294967295', '99999999999', '1.5', '+5'];
for (const id of badIds) {
  test(`uid ${id} is out of range`, userError(() => resolveUser(id, passwd, group), `invalid uid ${id}: must be an integer from 0 to 4294967294`));
  test(`gid ${id} is out of range`, userError(() => resolveUser(`app:${id}`, passwd, group), `invalid gid ${id}: must be an integer from 0 to 4294967294`));
}

test('the largest valid id is 2^32-2', (t) => {
  t.is(resolveUser('4294967294:4294967294', null, null).uid, 4294967294);
});

test('parsePasswd skips comments, blank, short and malformed lines', (t) => {
  const text = [
    '# comment',
    '',
    '   ',
    'short:x:1',
    'badid:x:one:1::/:/bin/sh',
    ':x:5:5::/:/bin/sh',
    '  spaced:x:7:8:gecos:/home/spaced:/bin/sh  ',
    'crlf:x:9:9::/crlf:/bin/sh\r',
    'nohomefield:x:11:12',
  ].join('\n');
  t.deepEqual(parsePasswd(text), [
    { name: 'spaced', uid: 7, gid: 8, home: '/home/spaced' },
    { name: 'crlf', uid: 9, gid: 9, home: '/crlf' },
    { name: 'nohomefield', uid: 11, gid: 12, home: '' },
  ]);
});

test('parseGroup skips malformed lines and tolerates missing or spaced member lists', (t) => {
  const text = ['# c', 'a:x:1', 'b:x:2:', 'c:x:3:u1, u2 ,,u3', 'bad:x:x:u', 'short:x'].join('\n');
  t.deepEqual(parseGroup(text), [
    { name: 'a', gid: 1, members: [] },
    { name: 'b', gid: 2, members: [] },
    { name: 'c', gid: 3, members: ['u1', 'u2', 'u3'] },
  ]);
});
