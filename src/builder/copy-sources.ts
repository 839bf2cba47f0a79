// Finding what a COPY/ADD source names in a build context or a stage's rootfs:
// wildcard expansion (Go filepath.Match per name), top-level symlinks followed
// in-root, .dockerignore and --exclude applied while walking directories.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { IgnoreMatcher } from './dockerignore';
import { cleanPath, globRegExp, hasWildcards } from './glob';
import type { MergedTree, TreeEntry } from '../image/merged-tree';

/** SourceTree is where sources are read from, with the context's .dockerignore when there is one. */
export interface SourceTree {
  tree: MergedTree;
  ignore?: IgnoreMatcher;
}

/** Selected is one entry a source names, with the name a file keeps under a directory destination. */
export interface Selected {
  entry: TreeEntry;
  name: string;
  /** rel is the match's path below the source's last literal directory, which --exclude patterns are matched against. */
  rel: string;
}

/** Walked is one entry found inside a selected directory, with its path relative to that directory. */
export interface Walked {
  entry: TreeEntry;
  rel: string;
}

type Verdict = 'include' | 'skip' | 'descend';

// Directories walked between two yields to the event loop, so signals and
// timers still run during a large walk made of synchronous calls.
const DIRS_PER_YIELD = 256;

/** selectSources expands one source (wildcards, `..` clamped at the root) into the entries it names; empty when nothing matches. */
export function selectSources(source: SourceTree, src: string): Selected[] {
  const path = cleanPath(`/${src}`);
  const names = path === '/' ? [] : path.slice(1).split('/');
  const wildcardAt = names.findIndex(hasWildcards);
  if (wildcardAt < 0) {
    const entry = source.tree.stat(path);
    if (!entry || !visibleTopLevel(source, path) || !visibleTopLevel(source, entry.path)) return [];
    const name = names[names.length - 1] ?? '';
    return [{ entry, name, rel: name }];
  }
  const base = source.tree.stat(`/${names.slice(0, wildcardAt).join('/')}`);
  if (!base?.stats.isDirectory()) return [];
  return matchNames(source, base, '', names.slice(wildcardAt).map((name) => globRegExp(name)));
}

/** walkSelected lists everything below a selected directory in pre-order, skipping what .dockerignore or --exclude (matched relative to the directory) leave out. */
export async function walkSelected(source: SourceTree, dir: TreeEntry, exclude?: IgnoreMatcher): Promise<Walked[]> {
  const found: Walked[] = [];
  let dirsSinceYield = 0;
  const verdict = (entry: TreeEntry, rel: string): Verdict => {
    const isDir = entry.stats.isDirectory();
    const byIgnore = source.ignore ? matcherVerdict(source.ignore, contextPath(entry), isDir) : 'include';
    const byExclude = exclude ? matcherVerdict(exclude, rel, isDir) : 'include';
    if (byIgnore === 'skip' || byExclude === 'skip') return 'skip';
    return byIgnore === 'descend' || byExclude === 'descend' ? 'descend' : 'include';
  };
  const walk = async (parent: TreeEntry, parentRel: string, into: Walked[]): Promise<void> => {
    if (++dirsSinceYield >= DIRS_PER_YIELD) {
      dirsSinceYield = 0;
      await yieldToLoop();
    }
    for (const entry of source.tree.children(parent)) {
      const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
      const rel = parentRel === '' ? name : `${parentRel}/${name}`;
      const decision = verdict(entry, rel);
      if (decision === 'skip') continue;
      if (decision === 'include') {
        into.push({ entry, rel });
        if (entry.stats.isDirectory()) await walk(entry, rel, into);
        continue;
      }
      // An excluded directory appears only if something inside it is re-included.
      const inside: Walked[] = [];
      await walk(entry, rel, inside);
      if (inside.length > 0) into.push({ entry, rel }, ...inside);
    }
  };
  await walk(dir, '', found);
  return found;
}

// matchNames walks the tree one pattern per name below base; symlinks are
// followed in-root, both to reach deeper names and for the final match.
function matchNames(source: SourceTree, base: TreeEntry, baseRel: string, patterns: RegExp[]): Selected[] {
  const [pattern, ...deeper] = patterns;
  const selected: Selected[] = [];
  for (const child of source.tree.children(base)) {
    const name = child.path.slice(child.path.lastIndexOf('/') + 1);
    if (!pattern.test(name)) continue;
    const entry = child.stats.isSymbolicLink() ? source.tree.stat(child.path) : child;
    if (!entry || !visibleTopLevel(source, child.path) || !visibleTopLevel(source, entry.path)) continue;
    const rel = baseRel === '' ? name : `${baseRel}/${name}`;
    if (deeper.length === 0) selected.push({ entry, name, rel });
    else if (entry.stats.isDirectory()) selected.push(...matchNames(source, entry, rel, deeper));
  }
  return selected;
}

/** visibleTopLevel tells whether a named source exists for COPY: one the .dockerignore excludes does not,
 * unless it is a directory an exception may re-include something from. */
export function visibleTopLevel(source: SourceTree, path: string): boolean {
  if (!source.ignore) return true;
  const rel = path.slice(1);
  if (!source.ignore.excludes(rel)) return true;
  return source.tree.stat(path)?.stats.isDirectory() === true && source.ignore.mayReincludeUnder(rel);
}

function matcherVerdict(matcher: IgnoreMatcher, rel: string, isDir: boolean): Verdict {
  if (!matcher.excludes(rel)) return 'include';
  return isDir && matcher.mayReincludeUnder(rel) ? 'descend' : 'skip';
}

function contextPath(entry: TreeEntry): string {
  return entry.path.slice(1);
}
