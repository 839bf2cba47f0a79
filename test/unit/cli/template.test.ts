import test from 'ava';

import { renderFormat } from '../../../src/cli/template';

const headers = { ID: 'CONTAINER ID', Names: 'NAMES' };
const rows = [{ ID: 'abc', Names: 'web' }, { ID: 'def', Names: 'db' }];

test('fields, and \\t as a tab, one line per row', (t) => {
  t.is(renderFormat('{{.ID}}\\t{{ .Names }}', rows, headers), 'abc\tweb\ndef\tdb');
});

test('table lays the cells out under the fields\' headers as tabwriter does', (t) => {
  t.is(renderFormat('table {{.ID}}\\t{{.Names}}', rows, headers), 'CONTAINER ID   NAMES\nabc            web\ndef            db');
});

test('json prints one object per row; {{json .}} and {{json .Field}} quote', (t) => {
  t.is(renderFormat('json', rows, headers), '{"ID":"abc","Names":"web"}\n{"ID":"def","Names":"db"}');
  t.is(renderFormat('{{json .Names}} {{json .}}', rows.slice(0, 1), headers), '"web" {"ID":"abc","Names":"web"}');
});

test('an unknown field or an unsupported action is a usage error', (t) => {
  t.throws(() => renderFormat('{{.Nope}}', rows, headers), { message: /can't evaluate field Nope/ });
  t.throws(() => renderFormat('{{range .}}x{{end}}', rows, headers), { message: /unsupported action/ });
});
