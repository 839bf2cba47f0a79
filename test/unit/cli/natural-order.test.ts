import test from 'ava';

import { naturalCompare } from '../../../src/cli/natural-order';

test("port's lines sort as the docker CLI sorts them: numbers by value, digits before other characters", (t) => {
  const lines = ['80/tcp -> [::]:8080', '7000/tcp -> 0.0.0.0:7000', '53/udp -> [::]:53', '80/tcp -> 0.0.0.0:8080', '53/udp -> 0.0.0.0:53'];
  t.deepEqual([...lines].sort(naturalCompare), [
    '53/udp -> 0.0.0.0:53', '53/udp -> [::]:53', '80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080', '7000/tcp -> 0.0.0.0:7000',
  ]);
  t.deepEqual(['a10', 'a9', 'a09', 'a', 'b1', 'a9x'].sort(naturalCompare), ['a', 'a9', 'a9x', 'a09', 'a10', 'b1']);
  t.is(naturalCompare('x1', 'x1'), 0);
});
