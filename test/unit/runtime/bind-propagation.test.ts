// Which host mount a bind's source lies on, and how it propagates, as Docker reads /proc/self/mountinfo
// to check a shared or slave bind.
import test from 'ava';

import { parseMountInfo, propagationRefusal, sourceMount } from '../../../src/runtime/bind-propagation';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '30 22 0:25 / /srv rw shared:7 master:3 - tmpfs tmpfs rw',
  '31 30 0:26 / /srv/private\\040dir rw - tmpfs tmpfs rw',
  '32 22 0:27 / /srvx rw master:9 - tmpfs tmpfs rw',
  '33 30 0:28 / /srv/stacked rw - tmpfs tmpfs rw',
  '34 33 0:29 / /srv/stacked rw shared:12 - tmpfs tmpfs rw',
  '',
].join('\n');

test('parseMountInfo: mount points with their escapes undone, and the optional fields', (t) => {
  const table = parseMountInfo(MOUNTINFO);
  t.is(table.length, 6);
  t.deepEqual(table[1], { mountPoint: '/srv', optional: ['shared:7', 'master:3'] });
  t.deepEqual(table[2], { mountPoint: '/srv/private dir', optional: [] });
});

test('sourceMount: the deepest mount point over the path, by whole names, the topmost of a stack', (t) => {
  const table = parseMountInfo(MOUNTINFO);
  t.is(sourceMount(table, '/srv/a/b').mountPoint, '/srv');
  t.is(sourceMount(table, '/srv').mountPoint, '/srv');
  t.is(sourceMount(table, '/srv/private dir/x').mountPoint, '/srv/private dir');
  t.is(sourceMount(table, '/srvy').mountPoint, '/', 'a name that only starts like a mount point is not under it');
  t.deepEqual(sourceMount(table, '/srv/stacked/x').optional, ['shared:12']);
  t.is(sourceMount(table, '/home').mountPoint, '/');
});

test('propagationRefusal: shared needs a shared source mount, slave a shared or slave one, with Docker\'s messages', (t) => {
  const [root, sharedSlave, privateOne, slaveOnly] = parseMountInfo(MOUNTINFO);
  t.is(propagationRefusal({ source: '/x', propagation: 'rshared' }, root), null);
  t.is(propagationRefusal({ source: '/srv/y', propagation: 'shared' }, sharedSlave), null);
  t.is(propagationRefusal({ source: '/srvx/z', propagation: 'rslave' }, slaveOnly), null);
  t.is(propagationRefusal({ source: '/srvx/z', propagation: 'rshared' }, slaveOnly), 'path /srvx/z is mounted on /srvx but it is not a shared mount');
  t.is(propagationRefusal({ source: '/srv/private dir', propagation: 'slave' }, privateOne), 'path /srv/private dir is mounted on /srv/private dir but it is not a shared or slave mount');
});
