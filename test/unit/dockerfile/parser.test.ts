import test from 'ava';
import { parse, parseHeredocWord, type Heredoc } from '../../../src/dockerfile/parser';
import { parseWords } from '../../../src/dockerfile/node-args';
import { DockerfileError } from '../../../src/errors';

const heredocsOf = (text: string): Heredoc[][] => parse(text).nodes.map((node) => node.heredocs);

// From BuildKit parser_heredoc_test.go TestParseExtractsHeredoc.
test('heredoc bodies, names, descriptors, chomp and expand flags', (t) => {
  const text = [
    'FROM alpine:3.6',
    'USER <<INVALID',
    'RUN <<EMPTY',
    'EMPTY',
    'RUN 3<<EMPTY2',
    'EMPTY2',
    'RUN "<<NOHEREDOC"',
    'RUN <<-UNINDENT2',
    '\tbaz',
    '\tquux',
    '\tUNINDENT2',
    "RUN <<-'NOEXPAND'",
    "\tdon't expand $NAME",
    'NOEXPAND',
    'COPY <<X <<Y /dest',
    'Y',
    'X',
    'X',
    'Y',
    'RUN <<eo\\\'f',
    'echo foo',
    "eo'f",
    "RUN <<'one two'",
    'echo bar',
    'one two',
    'RUN <<$EOF',
    '$EOF',
    'RUN <<  EOF  > foo',
    'EOF',
    '',
  ].join('\n');
  const docs = (name: string, content: string, extra: Partial<Heredoc> = {}): Heredoc => ({ name, content, fileDescriptor: 0, expand: true, chomp: false, ...extra });
  t.deepEqual(heredocsOf(text), [
    [],
    [],
    [docs('EMPTY', '')],
    [docs('EMPTY2', '', { fileDescriptor: 3 })],
    [],
    [docs('UNINDENT2', '\tbaz\n\tquux\n', { chomp: true })],
    [docs('NOEXPAND', "\tdon't expand $NAME\n", { chomp: true, expand: false })],
    [docs('X', 'Y\n'), docs('Y', 'X\n')],
    [docs("eo'f", 'echo foo\n')],
    [docs('one two', 'echo bar\n', { expand: false })],
    [docs('$EOF', '')],
    [docs('EOF', '')],
  ]);
});

test('USER is not a heredoc instruction, so its word is left alone and the next line is an instruction', (t) => {
  const error = t.throws(() => parse('FROM a\nUSER <<X\nX\n'), { instanceOf: DockerfileError });
  t.is(error?.message, 'Dockerfile:3: unknown instruction: X');
});

test('a JSON-form RUN has no heredocs', (t) => {
  t.deepEqual(heredocsOf('FROM a\nRUN ["sh", "<<EOF"]\n'), [[], []]);
});

test('heredoc bodies keep CRLF line endings byte for byte; terminators ignore them', (t) => {
  t.deepEqual(parse('FROM a\r\nRUN <<E\r\none\r\nE\r\n').nodes[1].heredocs[0].content, 'one\r\n');
});

test('nodes keep their line ranges, including continuations, comments and heredoc bodies', (t) => {
  const text = ['# escape=\\', '', 'FROM a', '', 'RUN one \\', '  # comment', '', '  two', 'COPY <<A /a', 'body', 'A', 'CMD x'].join('\n');
  t.deepEqual(
    parse(text).nodes.map((node) => [node.keyword, node.startLine, node.endLine]),
    [
      ['FROM', 3, 3],
      ['RUN', 5, 8],
      ['COPY', 9, 11],
      ['CMD', 12, 12],
    ],
  );
});

test('original joins continuations as BuildKit does; stepText joins them with single spaces', (t) => {
  const [node] = parse('RUN apt-get -y update && \\\n    apt-get install -y cowsay\n').nodes;
  t.is(node.original, 'RUN apt-get -y update &&     apt-get install -y cowsay');
  t.is(node.stepText, 'RUN apt-get -y update && apt-get install -y cowsay');
});

test('directives are read only at the top, keys case-insensitively', (t) => {
  const parsed = parse('# Syntax = docker/dockerfile:1\n# check=skip=all\n#escape=`\nFROM a\n');
  t.deepEqual(parsed.directives, [
    { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
    { name: 'check', value: 'skip=all', line: 2 },
    { name: 'escape', value: '`', line: 3 },
  ]);
  t.is(parsed.escapeChar, '`');
  t.is(parse('FROM a\n# escape=`\n').escapeChar, '\\');
  t.is(parse('# unknown=1\n# escape=`\nFROM a\n').escapeChar, '\\');
});

test('a UTF-8 byte-order mark is dropped', (t) => {
  t.is(parse('\ufeff# escape=`\nFROM a').escapeChar, '`');
});

test('keywords are case-insensitive and kept upper-cased', (t) => {
  t.deepEqual(
    parse('from a\nRun b\nhealthCHECK NONE').nodes.map((node) => node.keyword),
    ['FROM', 'RUN', 'HEALTHCHECK'],
  );
});

test('flags: quotes removed, escapes applied, -- ends them', (t) => {
  const [node] = parse('COPY --from="a b" --chown=1\\:1 -- --x /y').nodes;
  t.deepEqual(node.flags, ['--from=a b', '--chown=1:1']);
  t.deepEqual(node.args, ['--x', '/y']);
});

// From BuildKit parser_test.go TestParseWords.
test('parseWords keeps quotes and escapes in words', (t) => {
  const cases: Array<[string, string[]]> = [
    ['foo', ['foo']],
    ['foo bar', ['foo', 'bar']],
    ['foo\\ bar', ['foo\\ bar']],
    ['foo=bar', ['foo=bar']],
    ["foo bar 'abc xyz'", ['foo', 'bar', "'abc xyz'"]],
    ['foo bar "abc xyz"', ['foo', 'bar', '"abc xyz"']],
    ['àöû', ['àöû']],
    ['föo bàr "âbc xÿz"', ['föo', 'bàr', '"âbc xÿz"']],
  ];
  for (const [input, expected] of cases) t.deepEqual(parseWords(input, '\\'), expected, input);
});

test('parseHeredocWord reads descriptor, chomp and quoting', (t) => {
  t.deepEqual(parseHeredocWord('2<<-"END"', 1), { name: 'END', fileDescriptor: 2, expand: false, chomp: true });
  t.is(parseHeredocWord('<<', 1), undefined);
  t.is(parseHeredocWord('a<<b', 1), undefined);
});
