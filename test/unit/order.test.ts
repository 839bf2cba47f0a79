import test from 'ava';

import { textOrder } from '../../src/order';

test('textOrder sorts as Go\'s sort.Strings (Docker\'s listings): by code unit, capitals first, no collation', (t) => {
  t.deepEqual(['web', 'Web', 'api', 'a-b', 'a_b', 'ab', 'Zeta'].sort(textOrder), ['Web', 'Zeta', 'a-b', 'a_b', 'ab', 'api', 'web']);
});
