import test from 'ava';

import { renderFormat, renderValue } from '../../../src/cli/template';

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

test('an unknown field or a template Go would not parse is a usage error', (t) => {
  t.throws(() => renderFormat('{{.Nope}}', rows, headers), { message: /can't evaluate field Nope/ });
  t.throws(() => renderFormat('{{.Nope}}', [], headers), { message: /can't evaluate field Nope/ });
  t.throws(() => renderFormat('{{range .}}x', rows, headers), { message: 'template parsing error: template: :1: unexpected EOF' });
});

test('renderValue walks dotted fields and prints values as Go does', (t) => {
  const object = { Name: '/web', State: { Status: 'running', Running: true, Pid: 42 }, Args: ['-c', 'x'], Labels: { b: '2', a: '1' }, Gone: null };
  t.is(renderValue('{{.Name}} {{.State.Status}} {{.State.Running}} {{.State.Pid}}', object), '/web running true 42');
  t.is(renderValue('{{.Args}} {{.Labels}} {{.Gone}}', object), '[-c x] map[a:1 b:2] <nil>');
  t.is(renderValue('{{json .State}}\\t{{json .Args}}', object), '{"Status":"running","Running":true,"Pid":42}\t["-c","x"]');
  t.throws(() => renderValue('{{.State.Nope}}', object), { message: /at <\.State\.Nope>: can't evaluate field Nope/ });
});
