import test from 'ava';

import { GoTemplate } from '../../../src/cli/go-template/exec';
import { TemplateError } from '../../../src/cli/go-template/parse';
import { labelMethod, renderFormat } from '../../../src/cli/template';

// An inspect result's shape, as JSON gives it.
const container = {
  Name: '/web',
  Config: { Cmd: ['sh', '-c', 'sleep 1'], Labels: { tier: 'web', app: 'shop' }, Env: [] },
  State: { Status: 'running', Running: true, Paused: false, Pid: 42, ExitCode: 0, Health: null },
  NetworkSettings: {
    Networks: { bridge: { IPAddress: '10.88.0.2' }, backend: { IPAddress: '10.93.0.5' } },
    Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '443/tcp': null },
  },
};

const run = (source: string, data: unknown = container) => new GoTemplate(source).execute(data);
const failure = (source: string, data: unknown = container) => {
  try {
    run(source, data);
  } catch (err) {
    if (err instanceof TemplateError) return err.message;
    throw err;
  }
  return 'no error';
};

test('fields, dot and $ print as Go fmt prints them', (t) => {
  t.is(run('{{.Name}} {{.State.Pid}} {{.State.Running}} {{.State.Health}}'), '/web 42 true <nil>');
  t.is(run('{{.Config.Cmd}} {{.Config.Labels}}'), '[sh -c sleep 1] map[app:shop tier:web]');
  t.is(run('{{with .State}}{{$.Name}} {{.Status}}{{end}}'), '/web running');
});

test('range over a map goes in sorted key order; over a slice in order; else when empty', (t) => {
  t.is(run('{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}'), '10.93.0.5 10.88.0.2 ');
  t.is(run('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}'), 'app=shop tier=web ');
  t.is(run('{{range $i, $arg := .Config.Cmd}}{{$i}}:{{$arg}},{{end}}'), '0:sh,1:-c,2:sleep 1,');
  t.is(run('{{range $arg := .Config.Cmd}}{{$arg}};{{end}}'), 'sh;-c;sleep 1;');
  t.is(run('{{range .Config.Env}}x{{else}}none{{end}}'), 'none');
  t.is(run('{{range .Config.Cmd}}{{if eq . "-c"}}{{continue}}{{end}}{{if eq . "sleep 1"}}{{break}}{{end}}{{.}}{{end}}'), 'sh');
  t.is(failure('{{range .Name}}{{end}}'), 'template: :1:8: executing "" at <{{range .Name}}>: range can\'t iterate over /web');
});

test('index takes slice positions and map keys, nested and in parentheses', (t) => {
  t.is(run('{{index .Config.Cmd 0}} {{index .Config.Labels "tier"}}'), 'sh web');
  t.is(run('[{{index .Config.Labels "nope"}}]'), '[]', 'a string map\'s missing key is ""');
  t.is(run('{{(index .NetworkSettings.Ports "80/tcp")}}'), '[map[HostIp:0.0.0.0 HostPort:8080]]');
  t.is(run('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}'), '8080');
  t.is(run('{{(index .NetworkSettings.Networks "bridge").IPAddress}}'), '10.88.0.2');
  t.is(failure('{{index .Config.Cmd 5}}'), 'template: :1:2: executing "" at <index>: error calling index: index out of range: 5');
});

test('if, else if, with and Go truth: empty and zero values are false', (t) => {
  t.is(run('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
  t.is(run('{{if .State.Paused}}paused{{else if eq .State.Status "running"}}running{{else}}other{{end}}'), 'running');
  t.is(run('{{if .Config.Env}}a{{end}}{{if .State.ExitCode}}b{{end}}{{if ""}}c{{end}}{{if .State.Health}}d{{end}}{{if .Config}}e{{end}}'), 'e');
  t.is(run('{{with .Config.Labels.tier}}tier {{.}}{{end}}{{with .State.Health}}h{{else}} no health{{end}}'), 'tier web no health');
  t.is(run('{{if and .State.Health .State.Health.Status}}h{{else}}-{{end}}'), '-', 'and stops at the first false argument');
});

test('comparisons, and, or, not, len', (t) => {
  t.is(run('{{eq .State.Status "exited" "running"}} {{ne .State.Pid 42}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}'), 'true false true true true false');
  t.is(run('{{and 1 0}} {{and 1 "x"}} {{or 0 ""}} {{or 0 "x"}} {{not .State.Running}}'), '0 x  x false');
  t.is(run('{{len .Config.Cmd}} {{len .Config.Labels}} {{len "é"}}'), '3 2 2');
  t.is(failure('{{eq .State.Pid "42"}}'), 'template: :1:2: executing "" at <eq>: error calling eq: incompatible types for comparison');
});

test('print, printf and println format as fmt does', (t) => {
  t.is(run('{{printf "%s has pid %d; %v %q|%5s|%-3d|%05.1f" .Name .State.Pid .Config.Cmd "x" "ab" 7 3.14159}}'), '/web has pid 42; [sh -c sleep 1] "x"|   ab|7  |003.1');
  t.is(run('{{printf "%d %s" "x"}}'), '%!d(string=x) %!s(MISSING)');
  t.is(run('{{print 1 2 "a" "b" 3}}|{{println "a" 1}}'), '1 2ab3|a 1\n');
});

test('the docker CLI functions: json, join, split, title, lower, upper, pad, truncate', (t) => {
  t.is(run('{{json .Config.Cmd}} {{json .State.Health}} {{json .Config.Labels}}'), '["sh","-c","sleep 1"] null {"tier":"web","app":"shop"}');
  t.is(run('{{join .Config.Cmd ","}} {{split "a:b:c" ":"}} {{len (split "a:b" ":")}}'), 'sh,-c,sleep 1 [a b c] 2');
  t.is(run('{{title "hello world"}} {{lower "AbC"}} {{upper .State.Status}}'), 'Hello World abc RUNNING');
  t.is(run('[{{pad "x" 1 2}}] [{{pad "" 1 2}}] {{truncate "abcdef" 3}} {{truncate "ab" 3}}'), '[ x  ] [] abc ab');
  t.is(failure('{{upper .State.Pid}}'), 'template: :1:2: executing "" at <upper>: wrong type for value; expected string; got int');
});

test('pipelines pass the value on as the last argument', (t) => {
  t.is(run('{{.Name | upper}} {{.State.Status | printf "%s!"}} {{.Config.Cmd | len | printf "%d args"}}'), '/WEB running! 3 args');
  t.is(run('{{$n := .Name}}{{$n = "other"}}{{$n}}'), 'other');
});

test('{{- and -}} trim the whitespace beside the action; comments print nothing', (t) => {
  t.is(run('a  \n {{- .State.Status -}} \n  b'), 'arunningb');
  t.is(run('a {{/* a comment */}}b {{- /* trimmed */ -}} c'), 'a bc');
  t.is(run('{{-3}}'), '-3', 'a minus without a space is a number');
});

test('a map lacks a key as <no value>; a struct lacks a field as an error, as in Docker', (t) => {
  t.is(run('{{.Config.Labels.nope}} {{.NetworkSettings.Networks.other}}'), '<no value> <no value>');
  t.is(failure('{{.State.Nope}}'), 'template: :1:8: executing "" at <.State.Nope>: can\'t evaluate field Nope');
  t.is(failure('{{.State.Health.Status}}'), 'template: :1:8: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status');
});

test('parse errors are one line as Go words them', (t) => {
  t.is(failure('{{ .Name } }'), 'template: :1: unexpected "}" in operand');
  t.is(failure('{{.Name'), 'template: :1: unclosed action');
  t.is(failure('{{if .Name}}x'), 'template: :1: unexpected EOF');
  t.is(failure('{{end}}'), 'template: :1: unexpected {{end}}');
  t.is(failure('{{nope .Name}}'), 'template: :1: function "nope" not defined');
  t.is(failure('{{$x}}'), 'template: :1: undefined variable "$x"');
  t.is(failure('x\n{{if}}'), 'template: :2: missing value for if');
  t.is(failure('{{break}}'), 'template: :1: {{break}} outside {{range}}');
});

test('ps rows: {{.Label "k"}} is a method; in a table its header is cut where Go stops', (t) => {
  const rows = [{ Names: 'web', Label: labelMethod({ k: 'v' }) }, { Names: 'db', Label: labelMethod({}) }];
  const headers = { Names: 'NAMES', Label: 'LABEL' };
  t.is(renderFormat('{{.Names}} {{.Label "k"}}', rows, headers), 'web v\ndb ');
  t.is(renderFormat('{{.Label "constructor"}}', rows.slice(0, 1), headers), '');
  t.is(renderFormat('table {{.Names | upper}}\\t{{json .Names}}', rows, headers), 'NAMES     NAMES\nWEB       "web"\nDB        "db"');
  t.is(renderFormat('table {{.Names}}\\t{{.Label "k"}}', rows, headers), 'NAMES\nweb       v\ndb');
  t.is(renderFormat('{{.Label "k"}}', [], headers), '');
  t.throws(() => renderFormat('{{.Label}}', rows, headers), { message: 'template parsing error: template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0' });
});
