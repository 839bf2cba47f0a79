import test from 'ava';

import { CONTAINER_HEADERS, containerRow, psFormat, sizeText } from '../../../src/cli/container-rows';
import { formatUsesField, renderFormat } from '../../../src/cli/template';
import type { ListedContainer } from '../../../src/api';
import { NOW, record } from '../runtime/records';

// A container with a named volume, a bind, a tmpfs mount and an anonymous volume, on a user network too.
function mounted(size?: ListedContainer['size']): ListedContainer {
  const base = record({ status: 'exited', startedAt: '2026-06-01T11:59:00.000Z', finishedAt: '2026-06-01T11:59:55.000Z' });
  return {
    ...base,
    ...(size ? { size } : {}),
    config: {
      ...base.config,
      imageRef: 'docker.io/library/busybox:1.36@sha256:' + 'c'.repeat(64),
      network: 'bridge',
      networks: { backend: { id: 'd'.repeat(64), aliases: [] } },
      labels: { zone: 'b', app: 'web' },
      mounts: [
        { type: 'volume', source: 'data', target: '/data', readonly: false, mode: 'z', propagation: '' },
        { type: 'bind', source: '/srv/projects/website/static', target: '/static', readonly: true, mode: 'ro', propagation: 'rprivate' },
        { type: 'tmpfs', source: '', target: '/run', readonly: false, mode: '', propagation: '' },
        { type: 'volume', source: 'e'.repeat(64), target: '/cache', readonly: false, mode: '', propagation: '', anonymous: true },
      ],
    },
  } as ListedContainer;
}

test('SIZE is the writable layer, and the virtual size when the listing has it', (t) => {
  t.is(sizeText(undefined), '0B');
  t.is(sizeText({ rw: 0, rootFs: 4_260_000 }), '0B (virtual 4.26MB)');
  t.is(sizeText({ rw: 2, rootFs: 21_500_002 }), '2B (virtual 21.5MB)');
  t.is(sizeText({ rw: 102_400, rootFs: 2_099_200 }), '102kB (virtual 2.1MB)');
  // system df -v shows no virtual size: a zero one is left out.
  t.is(sizeText({ rw: 1_234_567, rootFs: 0 }), '1.23MB');
});

test('psFormat: the default table, with SIZE for -s; `table` alone is the default; -q wins', (t) => {
  const table = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';
  t.is(psFormat(undefined, false, false), table);
  t.is(psFormat(undefined, false, true), `${table}\\t{{.Size}}`);
  t.is(psFormat('table', false, true), `${table}\\t{{.Size}}`);
  t.is(psFormat('{{.Names}}', false, true), '{{.Names}}');
  t.is(psFormat('{{.Names}}', true, false), '{{.ID}}');
});

test('a format showing .Size asks for sizes; json and fields under range do not', (t) => {
  t.true(formatUsesField('{{.Names}} {{.Size}}', 'Size'));
  t.true(formatUsesField('table {{.ID}}\\t{{if .Size}}{{.Size}}{{end}}', 'Size'));
  t.false(formatUsesField('table {{.ID}}\\t{{.Names}}', 'Size'));
  t.false(formatUsesField('json', 'Size'));
  t.false(formatUsesField('{{range .Mounts}}{{.Size}}{{end}}', 'Size'));
});

test('mounts, local volumes, networks, labels and image as the docker CLI prints them', (t) => {
  const row = containerRow(mounted({ rw: 5, rootFs: 1_000_005 }), NOW, true);
  t.like(row, {
    Image: 'busybox:1.36',
    LocalVolumes: '2',
    Mounts: `data,/srv/projects/…,,${'e'.repeat(14)}…`,
    Networks: 'bridge,backend',
    Labels: 'app=web,zone=b',
    Size: '5B (virtual 1MB)',
  });
  t.like(containerRow(mounted(), NOW, false), {
    Image: 'docker.io/library/busybox:1.36@sha256:' + 'c'.repeat(64),
    Mounts: `data,/srv/projects/website/static,,${'e'.repeat(64)}`,
    Size: '0B',
  });
});

test('the image named by ID shows as the short ID; a container sharing a network has none of its own', (t) => {
  const base = record();
  const byId = { ...base, config: { ...base.config, imageRef: base.config.image, network: 'container:web' } } as ListedContainer;
  t.like(containerRow(byId, NOW, true), { Image: 'b'.repeat(12), Networks: '', Mounts: '', LocalVolumes: '0' });
});

test("table headers are the docker CLI's", (t) => {
  const text = renderFormat('table {{.Names}}\\t{{.Size}}\\t{{.LocalVolumes}}\\t{{.Mounts}}\\t{{.Networks}}', [containerRow(mounted({ rw: 0, rootFs: 10 }), NOW, true)], CONTAINER_HEADERS);
  t.deepEqual(text.split('\n').map((line) => line.split(/\s{3,}/)), [
    ['NAMES', 'SIZE', 'LOCAL VOLUMES', 'MOUNTS', 'NETWORKS'],
    ['c1', '0B (virtual 10B)', '2', `data,/srv/projects/…,,${'e'.repeat(14)}…`, 'bridge,backend'],
  ]);
});
