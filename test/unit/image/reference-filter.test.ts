import test from 'ava';

import type { ImageRecord } from '../../../src/image/images';
import { listedImages, matchingTags } from '../../../src/image/reference-filter';

const TAGS = ['busybox:latest', 'busybox:1.36', 'example/tools:1.0', 'localhost:5000/app:v1', 'busyboxer:latest'];

test('REPOSITORY matches every tag of that repository, and only it', (t) => {
  t.deepEqual(matchingTags('busybox', TAGS), ['busybox:latest', 'busybox:1.36']);
  t.deepEqual(matchingTags('example/tools', TAGS), ['example/tools:1.0']);
  t.deepEqual(matchingTags('localhost:5000/app', TAGS), ['localhost:5000/app:v1']);
  t.deepEqual(matchingTags('nosuch', TAGS), []);
});

test('REPOSITORY:TAG matches that tag alone', (t) => {
  t.deepEqual(matchingTags('busybox:1.36', TAGS), ['busybox:1.36']);
  t.deepEqual(matchingTags('busybox:2', TAGS), []);
  t.deepEqual(matchingTags('localhost:5000/app:v1', TAGS), ['localhost:5000/app:v1']);
});

test('the full name of a Docker Hub image finds its short name', (t) => {
  t.deepEqual(matchingTags('docker.io/library/busybox', TAGS), ['busybox:latest', 'busybox:1.36']);
  t.deepEqual(matchingTags('library/busybox:latest', TAGS), ['busybox:latest']);
});

test('shell patterns as Go\'s path.Match: * stops at /', (t) => {
  t.deepEqual(matchingTags('busy*', TAGS), ['busybox:latest', 'busybox:1.36', 'busyboxer:latest']);
  t.deepEqual(matchingTags('busybox:1.*', TAGS), ['busybox:1.36']);
  t.deepEqual(matchingTags('*', TAGS), ['busybox:latest', 'busybox:1.36', 'busyboxer:latest']);
  t.deepEqual(matchingTags('*/*', TAGS), ['example/tools:1.0', 'localhost:5000/app:v1']);
  t.deepEqual(matchingTags('busybox:[0-9]*', TAGS), ['busybox:1.36']);
  t.deepEqual(matchingTags('busybox:[^0-9]*', TAGS), ['busybox:latest']);
});

function image(n: number, tags: string[], labels: Record<string, string> = {}): ImageRecord {
  return {
    id: `sha256:${String(n).repeat(64)}`, tags, repoDigests: [], size: 1, created: new Date(Date.UTC(2026, 0, n)),
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: labels } },
  } as ImageRecord;
}

const IMAGES = [image(1, ['old:1'], { tier: 'base' }), image(2, []), image(3, ['app:1', 'app:2'], { tier: 'app', team: 'x' }), image(4, ['new:1'])];
const listed = (filters: string[]) => listedImages(IMAGES, { filters }).map((i) => `${i.id.slice(7, 8)}:${i.tags.join(',')}`);

test('--filter as the daemon takes it: dangling, label (key or key=value), reference, before, since; several all hold', (t) => {
  t.deepEqual(listed(['dangling=true']), ['2:']);
  t.deepEqual(listed(['dangling=false']), ['1:old:1', '3:app:1,app:2', '4:new:1']);
  t.deepEqual(listed(['label=tier']), ['1:old:1', '3:app:1,app:2']);
  t.deepEqual(listed(['label=tier=app']), ['3:app:1,app:2']);
  t.deepEqual(listed(['label=tier', 'label=team=x']), ['3:app:1,app:2']);
  t.deepEqual(listed(['reference=app:2']), ['3:app:2']);
  t.deepEqual(listed(['reference=old', 'reference=new']), ['1:old:1', '4:new:1']);
  t.deepEqual(listed(['before=app:1']), ['1:old:1', '2:']);
  t.deepEqual(listed(['since=app:1']), ['4:new:1']);
  t.deepEqual(listed(['since=1111', 'dangling=false']), ['3:app:1,app:2', '4:new:1']);
});

test('a bad --filter is refused with the daemon\'s line', (t) => {
  t.throws(() => listed(['nope=1']), { message: "invalid filter 'nope'" });
  t.throws(() => listed(['dangling=maybe']), { message: "invalid filter 'dangling=maybe'" });
  t.throws(() => listed(['dangling']), { message: 'bad format of filter (expected name=value)' });
  t.throws(() => listed(['before=ghost']), { message: 'No such image: ghost' });
});
