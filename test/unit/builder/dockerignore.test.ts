import test from 'ava';
import { ignoreMatcher, parseDockerignore } from '../../../src/builder/dockerignore';
import { cleanPath, globMatch } from '../../../src/builder/glob';

const excludes = (patterns: string[], path: string) => ignoreMatcher(patterns).excludes(path);

// moby/patternmatcher TestMatches (MatchesOrParentMatches): [pattern, path, matches].
const singlePatternCases: [string, string, boolean][] = [
  ['**', 'file', true], ['**', 'file/', true], ['**/', 'file', true], ['**/', 'file/', true],
  ['**', '/', true], ['**/', '/', true], ['**', 'dir/file', true], ['**/', 'dir/file', true],
  ['**/**', 'dir/file', true], ['dir/**', 'dir/file', true], ['dir/**', 'dir/dir2/file', true],
  ['**/dir', 'dir', true], ['**/dir', 'dir/file', true], ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true], ['**file', 'file', true], ['**file', 'dir/file', true],
  ['**/file', 'dir/file', true], ['**file', 'dir/dir/file', true], ['**/file*', 'dir/dir/file.txt', true],
  ['**/file*txt', 'dir/dir/file.txt', true], ['**/file*.txt*', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true], ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true], ['**/**/*.txt', 'file.txt', true], ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/file.txt', true], ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false], ['a/*.txt', 'a/file.txt', true], ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false], ['a[b-d]e', 'ace', true], ['a[b-d]e', 'aae', false], ['a[^b-d]e', 'aze', true],
  ['.*', '.foo', true], ['.*', 'foo', false], ['abc.def', 'abcdef', false], ['abc.def', 'abc.def', true],
  ['abc.def', 'abcZdef', false], ['abc?def', 'abcZdef', true], ['abc?def', 'abcdef', false],
  ['**/foo/bar', 'foo/bar', true], ['**/foo/bar', 'dir/foo/bar', true], ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false], ['abc/**', 'abc/def', true], ['abc/**', 'abc/def/ghi', true],
  ['**/.foo', '.foo', true], ['**/.foo', 'bar.foo', false], ['a(b)c/def', 'a(b)c/def', true],
  ['a(b)c/def', 'a(b)c/xyz', false], ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['a\\\\', 'a\\', true], ['a\\*b', 'a*b', true],
  // Anchored at the root; a directory pattern covers its contents; `dir/` is `dir`.
  ['*.log', 'sub/x.log', false], ['*.log', 'x.log', true], ['docs', 'docs/a/b.md', true], ['docs/', 'docs/x', true],
  ['/docs', 'docs/x', true], ['./docs', 'docs/x', true], ['*', 'fileutils.go', true],
];

for (const [pattern, path, expected] of singlePatternCases) {
  test(`pattern ${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(path)}`, (t) => {
    t.is(excludes(parseDockerignore(pattern), path), expected);
  });
}

const multiPatternCases: [string[], string, boolean][] = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['!fileutils.go', '*.go'], 'fileutils.go', true],
  [['*.go', '!fileutils.go'], 'fileutils.go', false],
  [['docs', '!docs/README.md'], 'docs/README.md', false],
  [['docs/', '!docs/README.md'], 'docs/README.md', false],
  [['docs/*', '!docs/README.md'], 'docs/README.md', false],
  [['docs', '!docs/README.md'], 'docs/other.md', true],
  // Last matching line wins (BuildKit's dockerignore3 manifest).
  [['*.md', '!README*.md', 'README-secret.md'], 'README.md', false],
  [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true],
  [['*.md', '!README*.md', 'README-secret.md'], 'CHANGES.md', true],
];

for (const [patterns, path, expected] of multiPatternCases) {
  test(`patterns ${JSON.stringify(patterns)} ${expected ? 'exclude' : 'keep'} ${JSON.stringify(path)}`, (t) => {
    t.is(excludes(patterns, path), expected);
  });
}

test('the context root is never excluded', (t) => {
  t.false(excludes(['*'], '.'));
  t.false(excludes(['**'], ''));
});

test('parseDockerignore drops comments and blanks, trims, cleans and un-roots patterns', (t) => {
  const text = '\ufeff# comment\n\n  *.log  \r\n/abs/dir/\n./rel\n! keep.log\n #not a comment\nfoo/../bar\n';
  t.deepEqual(parseDockerignore(text), ['*.log', 'abs/dir', 'rel', '!keep.log', '#not a comment', 'bar']);
});

test('a lone ! and malformed patterns are errors', (t) => {
  t.throws(() => ignoreMatcher(['!']), { message: /illegal exclusion pattern/ });
  t.throws(() => ignoreMatcher(['[']), { message: /syntax error in pattern/ });
  t.throws(() => ignoreMatcher(['a[']), { message: /syntax error in pattern/ });
});

test('mayReincludeUnder: literal exceptions only below their own prefix', (t) => {
  const matcher = ignoreMatcher(['secret', '!secret/keep', 'node_modules']);
  t.true(matcher.excludes('secret/other'));
  t.false(matcher.excludes('secret/keep'));
  t.true(matcher.mayReincludeUnder('secret'));
  t.false(matcher.mayReincludeUnder('node_modules'));
});

test('mayReincludeUnder: wildcard exceptions when their leading names can match', (t) => {
  const matcher = ignoreMatcher(['*', '!*/sub1*', '!**/*.md']);
  t.true(matcher.mayReincludeUnder('a'));
  t.true(matcher.mayReincludeUnder('a/b/c'));
  const narrow = ignoreMatcher(['*', '!src/*.c']);
  t.true(narrow.mayReincludeUnder('src'));
  t.false(narrow.mayReincludeUnder('docs'));
  t.false(ignoreMatcher(['docs']).mayReincludeUnder('docs'));
});

// Go's filepath.Match cases (from patternmatcher_test matchTests), per path name.
const globCases: [string, string, boolean | 'error'][] = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true],
  ['a*', 'ab/c', false], ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true], ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false], ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false], ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', 'a', false],
  ['[]a]', ']', 'error'], ['[-]', '-', 'error'], ['[x-]', 'x', 'error'], ['[-x]', 'x', 'error'], ['\\', 'a', 'error'],
  ['[a-b-c]', 'a', 'error'], ['[', 'a', 'error'], ['[^', 'a', 'error'], ['[^bc', 'a', 'error'], ['a[', 'a', 'error'],
  ['*x', 'xxx', true],
];

for (const [pattern, name, expected] of globCases) {
  test(`filepath.Match(${JSON.stringify(pattern)}, ${JSON.stringify(name)})`, (t) => {
    if (expected === 'error') t.throws(() => globMatch(pattern, name), { message: /syntax error in pattern/ });
    else t.is(globMatch(pattern, name), expected);
  });
}

test('cleanPath is Go path.Clean', (t) => {
  const cases: [string, string][] = [['', '.'], ['/', '/'], ['a//b/./c/', 'a/b/c'], ['/../x', '/x'], ['../x', '../x'], ['a/../..', '..'], ['/a/b/..', '/a']];
  for (const [input, cleaned] of cases) t.is(cleanPath(input), cleaned, input);
});
