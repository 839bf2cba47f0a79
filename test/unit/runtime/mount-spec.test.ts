// `-v` and `--mount` read as the docker CLI and daemon read them: what each
// spec becomes, and Docker's message for each bad one.
import test from 'ava';

import { NboxError } from '../../../src/errors';
import { parseMountFlag, parseVolumeFlag, parseVolumesFrom, ramInBytes, tmpfsOptions } from '../../../src/runtime/mount-spec';

test('-v: an absolute or ./ source is a bind, any other a volume name, none an anonymous volume', (t) => {
  t.deepEqual(parseVolumeFlag('/host:/c').mount, {
    type: 'bind', source: '/host', target: '/c', readonly: false, mode: '', propagation: 'rprivate', createHostPath: true,
  });
  t.deepEqual(parseVolumeFlag('./rel/dir:/c:ro', '/work').mount, {
    type: 'bind', source: '/work/rel/dir', target: '/c', readonly: true, mode: 'ro', propagation: 'rprivate', createHostPath: true,
  });
  t.deepEqual(parseVolumeFlag('data:/var/lib/app').mount, {
    type: 'volume', source: 'data', target: '/var/lib/app', readonly: false, mode: 'z', propagation: '',
  });
  t.deepEqual(parseVolumeFlag('/anon').mount, {
    type: 'volume', source: '', target: '/anon', readonly: false, mode: 'z', propagation: '', anonymous: true,
  });
  t.like(parseVolumeFlag('data:/d:ro,nocopy').mount, { readonly: true, noCopy: true, mode: 'ro,nocopy' });
});

test('-v: a bind\'s propagation is taken as asked, with no note; :z/:Z are taken with a note', (t) => {
  const shared = parseVolumeFlag('/h:/c:rshared');
  t.is(shared.mount.propagation, 'rshared');
  t.deepEqual(shared.notes, []);
  t.is(parseVolumeFlag('/h:/c:ro,slave').mount.propagation, 'slave');
  t.deepEqual(parseVolumeFlag('/h:/c:ro,private').notes, []);
  t.is(parseVolumeFlag('/h:/c:ro,private').mount.propagation, 'private');
  const labelled = parseVolumeFlag('vol:/c:Z');
  t.is(labelled.mount.mode, 'Z');
  t.deepEqual(labelled.notes, ['-v vol:/c:Z: the SELinux relabel option :z/:Z is ignored (nbox does not label files)']);
});

test('-v: Docker\'s messages for bad specs', (t) => {
  const message = (spec: string) => {
    const err = t.throws(() => parseVolumeFlag(spec));
    t.true(err instanceof NboxError && err.code === 'ERR_NBOX_USAGE', spec);
    return err?.message;
  };
  t.is(message('/data:rw'), "invalid volume specification: '/data:rw'");
  t.is(message('a:b:c:d'), "invalid volume specification: 'a:b:c:d'");
  t.is(message('::/x'), "invalid volume specification: '::/x'");
  t.is(message('/h:/c:rw,ro'), 'invalid mode: rw,ro');
  t.is(message('/h:/c:bogus'), 'invalid mode: bogus');
  t.is(message('vol:rel'), `invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`);
  t.is(message('/h:/'), `invalid mount config for type "bind": invalid specification: destination can't be '/'`);
  t.is(message('vol:/c:rshared'), 'invalid mount config for type "volume": invalid propagation mode: rshared');
});

test('--mount: keys and their aliases, flags without a value, Docker\'s defaults', (t) => {
  t.deepEqual(parseMountFlag('type=bind,src=/h,dst=/c,readonly,bind-propagation=rslave').mount, {
    type: 'bind', source: '/h', target: '/c', readonly: true, mode: '', propagation: 'rslave',
  });
  t.deepEqual(parseMountFlag('type=bind,src=/h,dst=/c,bind-propagation=RShared').notes, []);
  t.is(parseMountFlag('type=bind,src=/h,dst=/c,bind-propagation=RShared').mount.propagation, 'rshared');
  t.is(parseMountFlag('type=bind,src=/h,dst=/c').mount.propagation, 'rprivate');
  t.is(parseMountFlag('type=bind,src=/h,dst=/c,bind-propagation=private').mount.propagation, 'private');
  t.deepEqual(parseMountFlag('type=volume,source=v,destination=/d,ro=false,volume-nocopy').mount, {
    type: 'volume', source: 'v', target: '/d', readonly: false, mode: '', propagation: '', noCopy: true,
  });
  t.deepEqual(parseMountFlag('type=volume,target=/anon').mount, {
    type: 'volume', source: '', target: '/anon', readonly: false, mode: '', propagation: '', anonymous: true,
  });
  const tmpfs = parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770').mount;
  t.like(tmpfs, { type: 'tmpfs', tmpfsSize: 64 * 1024 * 1024, tmpfsMode: 0o1770 });
  t.is(tmpfsOptions(tmpfs), 'mode=1770,size=67108864');
  t.is(tmpfsOptions(parseMountFlag('type=tmpfs,dst=/t').mount), 'mode=1777');
  t.is(parseMountFlag('type=bind,src=.,dst=/c', '/work').mount.source, '/work');
  t.is(parseMountFlag('"type=bind","src=/a,b",dst=/c').mount.source, '/a,b');
  t.is(parseMountFlag('TYPE=bind,SRC=/h,DST=/c,RO=1').mount.readonly, true);
});

test('--mount: Docker\'s messages for bad specs', (t) => {
  const message = (spec: string) => t.throws(() => parseMountFlag(spec))?.message;
  const flag = (spec: string, why: string) => `invalid argument "${spec}" for "--mount" flag: ${why}`;
  t.is(message('src=/h,dst=/c'), flag('src=/h,dst=/c', 'type is required'));
  t.is(message('type=bind,src=/h'), flag('type=bind,src=/h', 'target is required'));
  t.is(message('type=bind,src=/h,dst=/c,nope'), flag('type=bind,src=/h,dst=/c,nope', "invalid field 'nope' must be a key=value pair"));
  t.is(message('type=bind,dst=/c,color=red'), flag('type=bind,dst=/c,color=red', "unexpected key 'color' in 'color=red'"));
  t.is(message('type=bind,src=/h,dst=/c,readonly=yes'), flag('type=bind,src=/h,dst=/c,readonly=yes', 'invalid value for readonly: yes'));
  t.is(message('type=tmpfs,dst=/t,tmpfs-size=lots'), flag('type=tmpfs,dst=/t,tmpfs-size=lots', 'invalid value for tmpfs-size: lots'));
  t.is(message('type=tmpfs,dst=/t,tmpfs-mode=999'), flag('type=tmpfs,dst=/t,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999'));
  t.is(message('type=bind,src=/h,dst=/c,volume-nocopy'), flag('type=bind,src=/h,dst=/c,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'"));
  t.is(message('type=volume,dst=/c,bind-propagation=shared'), flag('type=volume,dst=/c,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'"));
  t.is(message('type=bind,src=/h,dst=/c,tmpfs-size=1m'), flag('type=bind,src=/h,dst=/c,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'bind'"));
  t.is(message('type=nfs,dst=/c'), 'invalid mount config for type "nfs": mount type unknown');
  t.is(message('type=bind,dst=/c'), 'invalid mount config for type "bind": field Source must not be empty');
  t.is(message('type=bind,src=rel,dst=/c'), `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
  t.is(message('type=tmpfs,src=x,dst=/c'), 'invalid mount config for type "tmpfs": field Source must not be specified');
  t.is(message('type=bind,src=/h,dst=/c,bind-propagation=weird'), 'invalid mount config for type "bind": invalid propagation mode: weird');
  t.is(message('type=volume,dst=rel'), `invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`);
});

test('--volumes-from: a container and an optional ro|rw', (t) => {
  t.deepEqual(parseVolumesFrom('db'), { container: 'db' });
  t.deepEqual(parseVolumesFrom('db:ro'), { container: 'db', readonly: true });
  t.deepEqual(parseVolumesFrom('db:rw'), { container: 'db', readonly: false });
  t.is(t.throws(() => parseVolumesFrom('db:z'))?.message, 'invalid mode: z');
});

test('sizes as go-units RAMInBytes reads them', (t) => {
  t.is(ramInBytes('1024'), 1024);
  t.is(ramInBytes('64m'), 64 * 1024 ** 2);
  t.is(ramInBytes('1.5GiB'), 1.5 * 1024 ** 3);
  t.is(ramInBytes('2 kb'), 2048);
  t.is(ramInBytes('1.2.3'), null);
  t.is(ramInBytes('lots'), null);
});
