import test from 'ava';

import { NboxError } from '../../../src/errors';
import { buildNetwork, runNetwork } from '../../../src/runtime/network';

test('run: the bridge by default (also as `default`), none and host on request, any other name refused as Docker words it', (t) => {
  t.is(runNetwork(undefined), 'bridge');
  t.is(runNetwork('default'), 'bridge');
  t.is(runNetwork('none'), 'none');
  t.is(runNetwork('host'), 'host');
  const err = t.throws(() => runNetwork('bridge0'), { instanceOf: NboxError });
  t.is(err?.code, 'ERR_NBOX_USAGE');
  t.is(err?.message, 'network bridge0 not found');
});

test("build: BuildKit's default is the host's network; none; any other name refused", (t) => {
  t.is(buildNetwork(undefined), 'host');
  t.is(buildNetwork('default'), 'host');
  t.is(buildNetwork('none'), 'none');
  t.throws(() => buildNetwork('bridge'), { message: 'network mode "bridge" not supported by buildkit (use default, host or none)' });
});
