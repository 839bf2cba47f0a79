import test from 'ava';
import { DockerfileError } from '../../../src/errors';
import { MAX_STAGE_EXPANSION, MAX_WORD_LENGTH, expand, expandWord, expandWords, expansionBudget, type ExpandOptions } from '../../../src/dockerfile/expand';

const AT_LINE: ExpandOptions = { line: 7 };

// BuildKit frontend/dockerfile/shell/envVarTest (Unix and all-platform rows), with
// PWD=/home SHELL=bash KOREAN=한국어 NULL= set; null = an error is expected.
const ENV_VAR_CASES: Array<[string, string | null]> = [
  ["hello", "hello"],
  ["he'll'o", "hello"],
  ["he'llo", null],
  ["he\\'llo", "he'llo"],
  ["he\\\\'llo", null],
  ["abc\\tdef", "abctdef"],
  ["\"abc\\tdef\"", "abc\\tdef"],
  ["\"abc\\\\tdef\"", "abc\\tdef"],
  ["'abc\\tdef'", "abc\\tdef"],
  ["hello\\", "hello"],
  ["hello\\\\", "hello\\"],
  ["\"hello", null],
  ["\"hello\\\"", null],
  ["\"hel'lo\"", "hel'lo"],
  ["'hello", null],
  ["'hello\\'", "hello\\"],
  ["'hello\\there'", "hello\\there"],
  ["'hello\\\\there'", "hello\\\\there"],
  ["\"''\"", "''"],
  ["$.", "$."],
  ["he$1x", "hex"],
  ["he$.x", "he$.x"],
  ["he$pwd.", "he."],
  ["he$PWD", "he/home"],
  ["he\\$PWD", "he$PWD"],
  ["he\\\\$PWD", "he\\/home"],
  ["\"he\\$PWD\"", "he$PWD"],
  ["\"he\\\\$PWD\"", "he\\/home"],
  ["\\${}", "${}"],
  ["\\${}aaa", "${}aaa"],
  ["he\\${}", "he${}"],
  ["he\\${}xx", "he${}xx"],
  ["${}", null],
  ["${}aaa", null],
  ["he${}", null],
  ["he${}xx", null],
  ["he${hi}", "he"],
  ["he${hi}xx", "hexx"],
  ["he${PWD}", "he/home"],
  ["he${.}", null],
  ["he${XXX:-000}xx", "he000xx"],
  ["he${PWD:-000}xx", "he/homexx"],
  ["he${XXX:-$PWD}xx", "he/homexx"],
  ["he${XXX:-${PWD:-yyy}}xx", "he/homexx"],
  ["he${XXX:-${YYY:-yyy}}xx", "heyyyxx"],
  ["he${XXX:YYY}", null],
  ["he${XXX?}", null],
  ["he${XXX:?}", null],
  ["he${PWD?}", "he/home"],
  ["he${PWD:?}", "he/home"],
  ["he${NULL?}", "he"],
  ["he${NULL:?}", null],
  ["he${XXX:+${PWD}}xx", "hexx"],
  ["he${PWD:+${XXX}}xx", "hexx"],
  ["he${PWD:+${SHELL}}xx", "hebashxx"],
  ["he${XXX:+000}xx", "hexx"],
  ["he${PWD:+000}xx", "he000xx"],
  ["'he${XX}'", "he${XX}"],
  ["\"he${PWD}\"", "he/home"],
  ["\"he'$PWD'\"", "he'/home'"],
  ["\"$PWD\"", "/home"],
  ["'$PWD'", "$PWD"],
  ["'\\$PWD'", "\\$PWD"],
  ["'\"hello\"'", "\"hello\""],
  ["he\\$PWD", "he$PWD"],
  ["\"he\\$PWD\"", "he$PWD"],
  ["'he\\$PWD'", "he\\$PWD"],
  ["he${PWD", null],
  ["he${PWD:=000}xx", null],
  ["he${PWD:+${PWD}:}xx", "he/home:xx"],
  ["he${XXX:-\\$PWD:}xx", "he$PWD:xx"],
  ["he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"],
  ["안녕하세요", "안녕하세요"],
  ["안'녕'하세요", "안녕하세요"],
  ["안'녕하세요", null],
  ["안녕\\'하세요", "안녕'하세요"],
  ["안\\\\'녕하세요", null],
  ["안녕\\t하세요", "안녕t하세요"],
  ["\"안녕\\t하세요\"", "안녕\\t하세요"],
  ["'안녕\\t하세요", null],
  ["안녕하세요\\", "안녕하세요"],
  ["안녕하세요\\\\", "안녕하세요\\"],
  ["\"안녕하세요", null],
  ["\"안녕하세요\\\"", null],
  ["\"안녕'하세요\"", "안녕'하세요"],
  ["'안녕하세요", null],
  ["'안녕하세요\\'", "안녕하세요\\"],
  ["안녕$1x", "안녕x"],
  ["안녕$.x", "안녕$.x"],
  ["안녕$pwd.", "안녕."],
  ["안녕$PWD", "안녕/home"],
  ["안녕\\$PWD", "안녕$PWD"],
  ["안녕\\\\$PWD", "안녕\\/home"],
  ["안녕\\${}", "안녕${}"],
  ["안녕\\${}xx", "안녕${}xx"],
  ["안녕${}", null],
  ["안녕${}xx", null],
  ["안녕${hi}", "안녕"],
  ["안녕${hi}xx", "안녕xx"],
  ["안녕${PWD}", "안녕/home"],
  ["안녕${.}", null],
  ["안녕${XXX:-000}xx", "안녕000xx"],
  ["안녕${PWD:-000}xx", "안녕/homexx"],
  ["안녕${XXX:-$PWD}xx", "안녕/homexx"],
  ["안녕${XXX:-${PWD:-yyy}}xx", "안녕/homexx"],
  ["안녕${XXX:-${YYY:-yyy}}xx", "안녕yyyxx"],
  ["안녕${XXX:YYY}", null],
  ["안녕${XXX:+${PWD}}xx", "안녕xx"],
  ["안녕${PWD:+${XXX}}xx", "안녕xx"],
  ["안녕${PWD:+${SHELL}}xx", "안녕bashxx"],
  ["안녕${XXX:+000}xx", "안녕xx"],
  ["안녕${PWD:+000}xx", "안녕000xx"],
  ["'안녕${XX}'", "안녕${XX}"],
  ["\"안녕${PWD}\"", "안녕/home"],
  ["\"안녕'$PWD'\"", "안녕'/home'"],
  ["'\"안녕\"'", "\"안녕\""],
  ["안녕\\$PWD", "안녕$PWD"],
  ["\"안녕\\$PWD\"", "안녕$PWD"],
  ["'안녕\\$PWD'", "안녕\\$PWD"],
  ["안녕${PWD", null],
  ["안녕${PWD:=000}xx", null],
  ["안녕${PWD:+${PWD}:}xx", "안녕/home:xx"],
  ["안녕${XXX:-\\$PWD:}xx", "안녕$PWD:xx"],
  ["안녕${XXX:-\\${PWD}z}xx", "안녕${PWDz}xx"],
  ["$KOREAN", "한국어"],
  ["안녕$KOREAN", "안녕한국어"],
  ["${{aaa}", null],
  ["${aaa}}", "}"],
  ["${aaa", null],
  ["${{aaa:-bbb}", null],
  ["${aaa:-bbb}}", "bbb}"],
  ["${aaa:-bbb", null],
  ["${aaa:-bbb}", "bbb"],
  ["${aaa:-${bbb:-ccc}}", "ccc"],
  ["${aaa:-bbb ${foo}", null],
  ["${aaa:-bbb {foo}", "bbb {foo"],
  ["${:}", null],
  ["${:-bbb}", null],
  ["${:+bbb}", null],
  ["$1", ""],
  ["${1}", ""],
  ["${1:+bbb}", ""],
  ["${1:-bbb}", "bbb"],
  ["$2", ""],
  ["${2}", ""],
  ["${2:+bbb}", ""],
  ["${2:-bbb}", "bbb"],
  ["$3", ""],
  ["${3}", ""],
  ["${3:+bbb}", ""],
  ["${3:-bbb}", "bbb"],
  ["$4", ""],
  ["${4}", ""],
  ["${4:+bbb}", ""],
  ["${4:-bbb}", "bbb"],
  ["$5", ""],
  ["${5}", ""],
  ["${5:+bbb}", ""],
  ["${5:-bbb}", "bbb"],
  ["$6", ""],
  ["${6}", ""],
  ["${6:+bbb}", ""],
  ["${6:-bbb}", "bbb"],
  ["$7", ""],
  ["${7}", ""],
  ["${7:+bbb}", ""],
  ["${7:-bbb}", "bbb"],
  ["$8", ""],
  ["${8}", ""],
  ["${8:+bbb}", ""],
  ["${8:-bbb}", "bbb"],
  ["$9", ""],
  ["${9}", ""],
  ["${9:+bbb}", ""],
  ["${9:-bbb}", "bbb"],
  ["$999", ""],
  ["${999}", ""],
  ["${999:+bbb}", ""],
  ["${999:-bbb}", "bbb"],
  ["$999aaa", "aaa"],
  ["${999}aaa", "aaa"],
  ["${999:+bbb}aaa", "aaa"],
  ["${999:-bbb}aaa", "bbbaaa"],
  ["$001", ""],
  ["${001}", ""],
  ["${001:+bbb}", ""],
  ["${001:-bbb}", "bbb"],
  ["$001aaa", "aaa"],
  ["${001}aaa", "aaa"],
  ["${001:+bbb}aaa", "aaa"],
  ["${001:-bbb}aaa", "bbbaaa"],
  ["$@", ""],
  ["${@}", ""],
  ["${@:+bbb}", ""],
  ["${@:-bbb}", "bbb"],
  ["$@@@", "@@"],
  ["$@aaa", "aaa"],
  ["${@}aaa", "aaa"],
  ["${@:+bbb}aaa", "aaa"],
  ["${@:-bbb}aaa", "bbbaaa"],
  ["$*", ""],
  ["${*}", ""],
  ["${*:+bbb}", ""],
  ["${*:-bbb}", "bbb"],
  ["$#", ""],
  ["${#}", ""],
  ["${#:+bbb}", ""],
  ["${#:-bbb}", "bbb"],
  ["$?", ""],
  ["${?}", ""],
  ["${?:+bbb}", ""],
  ["${?:-bbb}", "bbb"],
  ["$-", ""],
  ["${-}", ""],
  ["${-:+bbb}", ""],
  ["${-:-bbb}", "bbb"],
  ["$$", ""],
  ["${$}", ""],
  ["${$:+bbb}", ""],
  ["${$:-bbb}", "bbb"],
  ["$!", ""],
  ["${!}", ""],
  ["${!:+bbb}", ""],
  ["${!:-bbb}", "bbb"],
  ["$0", ""],
  ["${0}", ""],
  ["${0:+bbb}", ""],
  ["${0:-bbb}", "bbb"],
];

// BuildKit frontend/dockerfile/shell/wordsTest: each { env } row adds a variable for the rows after it.
const WORDS_CASES: Array<[string, string[] | null] | { env: string }> = [
  ["hello", ["hello"]],
  ["hello${hi}bye", ["hellobye"]],
  { env: "hi=hi" },
  ["hello${hi}bye", ["hellohibye"]],
  { env: "space=abc  def" },
  ["hello${space}bye", ["helloabc", "defbye"]],
  ["hello\"${space}\"bye", ["helloabc  defbye"]],
  ["hello \"${space}\"bye", ["hello", "abc  defbye"]],
  { env: "leading=  ab c" },
  ["hello${leading}def", ["hello", "ab", "cdef"]],
  ["hello\"${leading}\" def", ["hello  ab c", "def"]],
  ["hello\"${leading}\"", ["hello  ab c"]],
  ["hello${leading}", ["hello", "ab", "c"]],
  { env: "trailing=ab c   " },
  ["hello${trailing}", ["helloab", "c"]],
  ["hello${trailing}d", ["helloab", "c", "d"]],
  ["hello\"${trailing}\"d", ["helloab c   d"]],
  ["hel\"lo${trailing}\"", ["helloab c   "]],
  ["hello\" there  \"", ["hello there  "]],
  ["hello there", ["hello", "there"]],
  ["hello\\ there", ["hello there"]],
  ["hello\" there", null],
  ["hello\\\" there", ["hello\"", "there"]],
  ["hello\"\\\\there\"", ["hello\\there"]],
  ["hello\"\\there\"", ["hello\\there"]],
  ["hello'\\\\there'", ["hello\\\\there"]],
  ["hello'\\there'", ["hello\\there"]],
  ["hello'$there'", ["hello$there"]],
];

const envVarTestEnv = new Map([
  ['PWD', '/home'],
  ['SHELL', 'bash'],
  ['KOREAN', '한국어'],
  ['NULL', ''],
]);

test('envVarTest vectors expand as BuildKit does', (t) => {
  for (const [source, expected] of ENV_VAR_CASES) {
    if (expected === null) t.throws(() => expandWord(source, envVarTestEnv, AT_LINE), { instanceOf: DockerfileError }, source);
    else t.is(expandWord(source, envVarTestEnv, AT_LINE), expected, source);
  }
});

test('wordsTest vectors split as BuildKit does', (t) => {
  const env = new Map<string, string>();
  for (const row of WORDS_CASES) {
    if (!Array.isArray(row)) {
      const equals = row.env.indexOf('=');
      env.set(row.env.slice(0, equals), row.env.slice(equals + 1));
    } else if (row[1] === null) {
      t.throws(() => expandWords(row[0], env, AT_LINE), { instanceOf: DockerfileError }, row[0]);
    } else {
      t.deepEqual(expandWords(row[0], env, AT_LINE), row[1], row[0]);
    }
  }
});

// BuildKit shell/lex_test.go TestProcessWithMatches: pattern operators, matched and unset names.
const PATTERN_CASES: Array<[string, Record<string, string>, string | null]> = [
  ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc'],
  ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc'],
  ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb '],
  ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  '],
  ['${FOO?aaa}', { FOO: 'xxx' }, 'xxx'],
  ['${BAR?bbb}', { BAR: '' }, ''],
  ['${BAZ?ccc}', {}, null],
  ['${BAR:?bbb}', { BAR: '' }, null],
  ['${FOO=aaa}', { FOO: 'xxx' }, null],
  ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x'],
  ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx'],
  ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y'],
  ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy'],
  ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy'],
  ['${FOO##*x}', { FOO: 'xxyy' }, 'yy'],
  ['${FOO#?\\?}', { FOO: '???y' }, '?y'],
  ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.'],
  ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a'],
  ['${FOO%}', { FOO: 'xxyy' }, 'xxyy'],
  ['${FOO:#}', {}, null],
  ['${FOO:%%}', {}, null],
  ['${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, '/foo.*/*.txt - /foo..*.txt'],
  ['${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, '/tmp/bar.txt - /bar.txt'],
  ['${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}', { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' }, '/foo/b/c.txt - /foo/c.txt'],
  ['${FOO/$NEEDLE/$REPLACEMENT}', { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' }, 'https://google.de'],
  ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt'],
  ['${FOO/$BAR/ww}', { FOO: 'xxyy', BAR: '' }, 'wwxxyy'],
  ['${FOO//ww}', { FOO: 'xxyy' }, null],
  ['${FOO//}', { FOO: 'xxyy' }, null],
  ['${FOO///}', { FOO: 'xxyy' }, 'xxyy'],
  ['${FOO///}', {}, ''],
  ['${FOO//x*/$}', { FOO: 'axxb' }, 'a$'],
  ['something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz', { VERSION: 'v1', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' }, 'something-v1.linux-arm-v7.tar.gz'],
  ['something-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz', { TARGETARCH: 'arm64' }, 'something-arm64.tar.gz'],
];

for (const [word, env, expected] of PATTERN_CASES) {
  test(`expand ${JSON.stringify(word)} with ${JSON.stringify(env)}`, (t) => {
    const vars = new Map(Object.entries(env));
    if (expected === null) t.throws(() => expandWord(word, vars, AT_LINE), { instanceOf: DockerfileError });
    else t.is(expandWord(word, vars, AT_LINE), expected);
  });
}

test('expand reports which variables were used and which were unset', (t) => {
  const result = expand('${FOO:-aaa} $BAR ${BAZ}', new Map([['FOO', 'x']]), AT_LINE);
  t.is(result.value, 'x  ');
  t.deepEqual([...result.used], ['FOO']);
  t.deepEqual([...result.unset].sort(), ['BAR', 'BAZ']);
});

test('${VAR:?message} and ${VAR?message} fail with the expanded message', (t) => {
  const unset = new Map([['ARG', 'x']]);
  t.throws(() => expandWord('${VAR:?message here$ARG}', unset, AT_LINE), { message: /VAR: message herex$/ });
  t.throws(() => expandWord('${VAR?message here$ARG}', unset, AT_LINE), { message: /VAR: message herex$/ });
  t.is(expandWord('${VAR?message}', new Map([['VAR', '']]), AT_LINE), '');
  t.throws(() => expandWord('${VAR:?}', new Map([['VAR', '']]), AT_LINE), { message: /VAR: is not allowed to be empty$/ });
});

test('errors are DockerfileErrors at the given line and file, quoting the word as BuildKit does', (t) => {
  const error = t.throws(() => expandWord('a${}', new Map(), { line: 12, file: 'build/Dockerfile' }), { instanceOf: DockerfileError });
  t.is(error?.message, 'build/Dockerfile:12: failed to process "a${}": syntax error: bad substitution');
  t.throws(() => expandWord('${x', new Map(), AT_LINE), { message: /syntax error: missing '}'$/ });
  t.throws(() => expandWord('${x:-y', new Map(), AT_LINE), { message: /syntax error: missing '}'$/ });
  t.throws(() => expandWord('${x/y', new Map(), AT_LINE), { message: /syntax error: missing '\/' in \$\{\}$/ });
  t.throws(() => expandWord('${x#\\a}', new Map([['x', 'ab']]), AT_LINE), { message: /invalid pattern \(\\a\) in substitution: invalid escape '\\a'$/ });
});

test('the backtick escape character escapes, and a backslash is then literal', (t) => {
  const backtick: ExpandOptions = { line: 1, escapeChar: '`' };
  t.is(expandWord('C:\\dir\\$X', new Map([['X', 'x']]), backtick), 'C:\\dir\\x');
  t.is(expandWord('a` b`$X', new Map([['X', 'x']]), backtick), 'a b$X');
  t.deepEqual(expandWords('a` b c', new Map(), backtick), ['a b', 'c']);
});

test('keepUnset leaves unset references as written, for syntax checks and heredoc words', (t) => {
  const options: ExpandOptions = { line: 1, keepUnset: true };
  t.is(expandWord('$A ${B} ${C:-d} ${E/f/g}', new Map(), options), '$A ${B} ${C:-d} ${E/f/g}');
  t.is(expandWord('$A', new Map([['A', '1']]), options), '1');
});

test('rawQuotes and rawEscapes keep quotes and escapes; plainQuotes makes quotes ordinary', (t) => {
  t.is(expandWord(`'a b' "c" \\d`, new Map(), { line: 1, rawQuotes: true, rawEscapes: true }), `'a b' "c" \\d`);
  t.is(expandWord(`'$A' "$A"`, new Map([['A', '1']]), { line: 1, plainQuotes: true }), `'1' "1"`);
});

test('deeply nested substitutions fail cleanly instead of exhausting the stack', (t) => {
  const word = '${a:-'.repeat(5000) + '}'.repeat(5000);
  t.throws(() => expandWord(word, new Map(), AT_LINE), { instanceOf: DockerfileError, message: /nested too deeply/ });
});

test('a word may expand to at most MAX_WORD_LENGTH characters, however its growth is reached', (t) => {
  const big = new Map([['A', 'x'.repeat(1 << 16)], ['B', 'xx']]);
  const tooLong = { instanceOf: DockerfileError, message: `Dockerfile:7: variable expansion too long: a word may expand to at most ${MAX_WORD_LENGTH} characters` };
  t.is(expandWord('$A'.repeat(16), big, AT_LINE).length, MAX_WORD_LENGTH);
  t.throws(() => expandWord('$A'.repeat(17), big, AT_LINE), tooLong);
  t.throws(() => expandWords('"$A$A"'.repeat(9), big, AT_LINE), tooLong);
  t.throws(() => expandWord('${A:+' + '$A'.repeat(17) + '}', big, AT_LINE), tooLong);
  // Replacing every match multiplies: 65,536 matches by 17 characters each.
  t.throws(() => expandWord('${A//x/xxxxxxxxxxxxxxxxx}', big, AT_LINE), tooLong);
  t.is(expandWord('${A//x/$B}', big, AT_LINE).length, 1 << 17);
  // Text written out in the Dockerfile is not growth: a long literal word stays valid.
  t.is(expandWord(`'${'y'.repeat(MAX_WORD_LENGTH + 1)}'`, big, AT_LINE).length, MAX_WORD_LENGTH + 1);
});

test('a budget caps what expansion adds to the words of a stage, all together', (t) => {
  const env = new Map([['A', 'x'.repeat(1 << 19)]]);
  const budget = expansionBudget();
  const options = { ...AT_LINE, budget };
  // Each `$A` adds half a MiB less its own two characters: 32 of them fit in 16 MiB.
  const words = MAX_STAGE_EXPANSION / (1 << 19);
  for (let i = 0; i < words; i++) expandWord('$A', env, options);
  t.is(budget.remaining, MAX_STAGE_EXPANSION - words * ((1 << 19) - 2));
  t.throws(() => expandWord('$A', env, options), {
    instanceOf: DockerfileError,
    message: `Dockerfile:7: variable expansion too long: the words of a stage may grow by at most ${MAX_STAGE_EXPANSION} characters in all`,
  });
  // Words that do not grow cost nothing.
  t.is(expandWord('${A:+no}', env, { ...AT_LINE, budget: expansionBudget() }), 'no');
});
