import test from 'ava';
import { NboxError } from '../../../src/errors';
import { DEFAULT_PATH, EnvSources, mergeEnv, parseEnvFile } from '../../../src/runtime/env';

function sources(overrides: Partial<EnvSources> = {}): EnvSources {
  return { imageEnv: undefined, hostname: 'c0ffee', user: { home: '/root' }, cliEnv: [], envFiles: [], hostEnv: {}, ...overrides };
}

function usageError(run: () => unknown, message: string) {
  return (t: import('ava').ExecutionContext) => {
    const error = t.throws(run, { instanceOf: NboxError, message });
    t.is(error?.code, 'ERR_NBOX_USAGE');
  };
}

test('defaults are PATH, HOSTNAME and HOME', (t) => {
  t.deepEqual(mergeEnv(sources()), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=c0ffee', 'HOME=/root']);
});

test('a tty adds TERM=xterm, which the image may override', (t) => {
  t.deepEqual(mergeEnv(sources({ tty: true })), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=c0ffee', 'TERM=xterm', 'HOME=/root']);
  t.true(mergeEnv(sources({ tty: true, imageEnv: ['TERM=dumb'] })).includes('TERM=dumb'));
});

test('image Env overrides defaults in place and appends new names', (t) => {
  t.deepEqual(mergeEnv(sources({ imageEnv: ['LANG=C.UTF-8', 'PATH=/opt/bin:/usr/bin', 'EMPTY='] })), [
    'PATH=/opt/bin:/usr/bin',
    'HOSTNAME=c0ffee',
    'LANG=C.UTF-8',
    'EMPTY=',
    'HOME=/root',
  ]);
});

test('precedence is image, then env files in order, then -e in order; last wins, first position kept', (t) => {
  const env = mergeEnv(
    sources({
      imageEnv: ['A=image', 'B=image', 'C=image'],
      envFiles: [
        { path: 'one.env', text: 'B=file1\nD=file1\n' },
        { path: 'two.env', text: 'D=file2\n' },
      ],
      cliEnv: ['C=cli1', 'C=cli2', 'E=cli'],
    }),
  );
  t.deepEqual(env, [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=c0ffee', 'A=image', 'B=file1', 'C=cli2', 'D=file2', 'E=cli', 'HOME=/root']);
});

test('values keep everything after the first "="', (t) => {
  t.true(mergeEnv(sources({ cliEnv: ['URL=a=b=c', 'SPACES=  x  '] })).includes('URL=a=b=c'));
  t.true(mergeEnv(sources({ cliEnv: ['SPACES=  x  '] })).includes('SPACES=  x  '));
});

test('-e NAME copies the host value, or unsets NAME (image value too) when the host has none', (t) => {
  const env = mergeEnv(sources({ imageEnv: ['GONE=image', 'KEEP=image'], cliEnv: ['FROM_HOST', 'GONE', 'UNSET'], hostEnv: { FROM_HOST: 'h', OTHER: 'o' } }));
  t.deepEqual(env, [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=c0ffee', 'KEEP=image', 'FROM_HOST=h', 'HOME=/root']);
});

test('-e NAME takes an empty host value as set', (t) => {
  t.true(mergeEnv(sources({ cliEnv: ['EMPTY'], hostEnv: { EMPTY: '' } })).includes('EMPTY='));
});

test('a bare NAME in an env file also copies the host value', (t) => {
  const env = mergeEnv(sources({ envFiles: [{ path: 'e', text: 'TOKEN\nMISSING\n' }], hostEnv: { TOKEN: 's3cret' } }));
  t.true(env.includes('TOKEN=s3cret'));
  t.false(env.some((entry) => entry.startsWith('MISSING')));
});

test('HOME comes from the user unless someone set it', (t) => {
  t.true(mergeEnv(sources({ user: { home: '/home/app' } })).includes('HOME=/home/app'));
  t.true(mergeEnv(sources({ user: { home: '/home/app' }, imageEnv: ['HOME=/data'] })).includes('HOME=/data'));
  t.true(mergeEnv(sources({ user: { home: '/home/app' }, cliEnv: ['HOME=/cli'] })).includes('HOME=/cli'));
});

test('an empty HOME is replaced by the user home, keeping its position', (t) => {
  t.deepEqual(mergeEnv(sources({ imageEnv: ['HOME=', 'X=1'], user: { home: '/' } })), [
    `PATH=${DEFAULT_PATH}`,
    'HOSTNAME=c0ffee',
    'HOME=/',
    'X=1',
  ]);
});

test('an empty -e name is rejected', usageError(() => mergeEnv(sources({ cliEnv: ['=value'] })), '-e "=value": variable name is empty'));

test('a NUL in -e is rejected, naming the variable', usageError(() => mergeEnv(sources({ cliEnv: ['BAD=a\0b'] })), '-e "BAD=a\\u0000b": variable BAD contains a NUL byte'));

test('a NUL in a -e name is rejected', usageError(() => mergeEnv(sources({ cliEnv: ['B\0D=x'] })), '-e "B\\u0000D=x": variable B\\0D contains a NUL byte'));

test('an image Env entry without "=" is rejected', usageError(() => mergeEnv(sources({ imageEnv: ['JUSTNAME'] })), 'image Env entry "JUSTNAME": no "=" after the name'));

test('an image Env entry with an empty name is rejected', usageError(() => mergeEnv(sources({ imageEnv: ['=x'] })), 'image Env entry "=x": variable name is empty'));

test('env-file errors in mergeEnv carry the file and line', usageError(
  () => mergeEnv(sources({ envFiles: [{ path: 'ok.env', text: 'A=1' }, { path: 'bad.env', text: 'A=1\n\n=oops\n' }] })),
  '--env-file bad.env:3: variable name is empty',
));

test('parseEnvFile skips blank lines and comments, keeps values untrimmed', (t) => {
  const text = ['# comment', '', '   ', '  # indented comment', 'A=1', '  B=two words  ', 'C=', 'BARE', 'D=#not a comment', 'E="quoted"'].join('\n');
  t.deepEqual(parseEnvFile({ path: 'x.env', text }), ['A=1', 'B=two words  ', 'C=', 'BARE', 'D=#not a comment', 'E="quoted"']);
});

test('parseEnvFile handles CRLF line ends and a byte order mark', (t) => {
  t.deepEqual(parseEnvFile({ path: 'win.env', text: '\uFEFFA=1\r\nB=2\r\n' }), ['A=1', 'B=2']);
});

test('parseEnvFile rejects whitespace in names', usageError(() => parseEnvFile({ path: 'w.env', text: 'OK=1\nBAD NAME=1' }), "--env-file w.env:2: variable 'BAD NAME' contains whitespaces"));

test('parseEnvFile rejects a bare name with trailing whitespace', usageError(() => parseEnvFile({ path: 'w.env', text: 'NAME \n' }), "--env-file w.env:1: variable 'NAME ' contains whitespaces"));

test('parseEnvFile rejects a NUL, naming file, line and variable', usageError(() => parseEnvFile({ path: 'n.env', text: '\n\nX=a\0' }), '--env-file n.env:3: variable X contains a NUL byte'));

test('parseEnvFile of an empty file is empty', (t) => {
  t.deepEqual(parseEnvFile({ path: 'empty.env', text: '' }), []);
});
