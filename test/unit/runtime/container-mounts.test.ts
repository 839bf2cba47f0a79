// How a run's mounts are composed before anything is created: --volumes-from
// first, -v/--mount over them by target, the image's VOLUMEs where nothing else
// is, duplicates refused; and inspect's Mounts of what is recorded.
import test from 'ava';

import { mountsInspect, planMounts, recordedMounts, volumeBindSpec, type MountRequest } from '../../../src/runtime/container-mounts';
import type { ContainerConfig, ContainerRecord } from '../../../src/runtime/container-record';
import { parseMountFlag, parseVolumeFlag } from '../../../src/runtime/mount-spec';

const request = (over: Partial<MountRequest>): MountRequest => ({ mounts: [], volumesFrom: [], tmpfsTargets: [], imageVolumes: [], ...over });
const noContainers = async (ref: string): Promise<ContainerRecord> => {
  throw new Error(`No such container: ${ref}`);
};

test('the image\'s VOLUMEs become anonymous volumes unless something is mounted there', async (t) => {
  const planned = await planMounts(request({ mounts: [parseVolumeFlag('named:/data/').mount], imageVolumes: ['/data', '/logs/', '/'] }), noContainers);
  t.deepEqual(planned.map((m) => [m.type, m.source, m.target, m.anonymous ?? false]), [
    ['volume', 'named', '/data', false],
    ['volume', '', '/logs', true],
  ]);
});

test('duplicates among -v, --mount and --tmpfs are refused; bad names before anything is made', async (t) => {
  const dup = await t.throwsAsync(planMounts(request({ mounts: [parseVolumeFlag('a1:/x').mount, parseMountFlag('type=volume,src=b1,dst=/x/.').mount] }), noContainers));
  t.is(dup?.message, 'Duplicate mount point: /x');
  const tmpfs = await t.throwsAsync(planMounts(request({ mounts: [parseVolumeFlag('a1:/run').mount], tmpfsTargets: ['/run'] }), noContainers));
  t.is(tmpfs?.message, 'Duplicate mount point: /run');
  const name = await t.throwsAsync(planMounts(request({ mounts: [volumeBindSpec({ source: 'x', target: '/x' })] }), noContainers));
  t.regex(name?.message ?? '', /^create x: "x" includes invalid characters for a local volume name/);
  const relative = await t.throwsAsync(planMounts(request({ mounts: [volumeBindSpec({ source: 'vol', target: 'rel' })] }), noContainers));
  t.is(relative?.message, `invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`);
});

test('--volumes-from copies every mount (old -v binds too), :ro overrides, own mounts win by target', async (t) => {
  const source = {
    config: {
      binds: [{ source: '/old', target: '/o', readonly: false }],
      mounts: [{ ...parseVolumeFlag('/anon').mount, source: 'f'.repeat(64) }, parseVolumeFlag('keep:/k').mount],
    } as Partial<ContainerConfig>,
  } as ContainerRecord;
  const planned = await planMounts(request({ volumesFrom: ['src:ro'], mounts: [parseVolumeFlag('mine:/k').mount] }), async () => source);
  t.deepEqual(planned.map((m) => [m.source, m.target, m.readonly, m.anonymous ?? false]), [
    ['/old', '/o', true, false],
    ['f'.repeat(64), '/anon', true, false],
    ['mine', '/k', false, false],
  ]);
});

test('inspect\'s Mounts: a volume by name with its _data as Source, binds rprivate', (t) => {
  const config = { binds: [{ source: '/h', target: '/c', readonly: true }], mounts: [parseVolumeFlag('v1:/v').mount, parseMountFlag('type=tmpfs,dst=/t').mount] } as ContainerConfig;
  t.deepEqual(mountsInspect(recordedMounts(config), '/store/containers/abc'), [
    { Type: 'bind', Source: '/h', Destination: '/c', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    { Type: 'volume', Name: 'v1', Source: '/store/volumes/v1/_data', Destination: '/v', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
  ]);
});
