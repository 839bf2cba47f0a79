// COPY --parents: a source keeps its path below a pivot (the root, or what
// precedes `/./` in it), as BuildKit copies the pivot directory with the rest
// of the source as an include pattern: `**` spans directories, a matched
// directory brings everything below it, and the directories above a match
// come along with their own metadata.
import { ignoreMatcher, type IgnoreMatcher } from './dockerignore';
import { cleanPath, hasWildcards } from './glob';
import { visibleTopLevel, walkSelected, type SourceTree, type Walked } from './copy-sources';

/** ParentsSource is a --parents source split at its first `/./`. */
export interface ParentsSource {
  /** pivot: the in-root directory whose own path is dropped. */
  pivot: string;
  /** pattern: the path kept below the pivot, relative and clean ('' for everything). */
  pattern: string;
}

/** splitPivot splits a --parents source into its pivot and the pattern below it. */
export function splitPivot(src: string): ParentsSource {
  const at = src.indexOf('/./');
  const [pivot, pattern] = at < 0 ? ['/', src] : [src.slice(0, at), src.slice(at + 3)];
  return { pivot: cleanPath(`/${pivot}`), pattern: cleanPath(`/${pattern}`).slice(1) };
}

/** selectParents lists what a --parents source copies, each with its path below the pivot, parents before children;
 * --exclude patterns are matched against those paths. Empty when nothing matches. */
export async function selectParents(source: SourceTree, src: string, exclude: IgnoreMatcher | undefined): Promise<Walked[]> {
  const { pivot, pattern } = splitPivot(src);
  const root = source.tree.stat(pivot);
  if (!root?.stats.isDirectory()) return [];
  const names = pattern === '' ? [] : pattern.split('/');
  const wildcardAt = names.findIndex(hasWildcards);
  // Names before the first wildcard are looked up one by one; like BuildKit's
  // walk, a symlink among them is not followed.
  const literal: Walked[] = [];
  let last = root;
  for (const name of wildcardAt < 0 ? names : names.slice(0, wildcardAt)) {
    if (!last.stats.isDirectory()) return [];
    const entry = source.tree.lstat(last.path === '/' ? `/${name}` : `${last.path}/${name}`);
    if (!entry) return [];
    literal.push({ entry, rel: literal.length > 0 ? `${literal[literal.length - 1].rel}/${name}` : name });
    last = entry;
  }
  if (literal.length > 0 && !visibleTopLevel(source, last.path)) return [];
  if (wildcardAt >= 0 && !last.stats.isDirectory()) return [];

  const selected: Walked[] = [];
  const emitted = new Set<string>();
  const dirs = new Map(literal.map((walked) => [walked.rel, walked]));
  const emit = (walked: Walked) => {
    const parts = walked.rel.split('/');
    for (let depth = 1; depth <= parts.length; depth++) {
      const rel = parts.slice(0, depth).join('/');
      if (emitted.has(rel)) continue;
      emitted.add(rel);
      selected.push(depth === parts.length ? walked : dirs.get(rel)!);
    }
  };
  const excluded = (rel: string) => exclude?.excludes(rel) === true;
  const base = literal.length > 0 ? literal[literal.length - 1].rel : '';
  const matcher = wildcardAt < 0 ? undefined : ignoreMatcher([pattern]);
  if (!matcher && base !== '' && !excluded(base)) emit(literal[literal.length - 1]);
  const below = last.stats.isDirectory() ? await walkSelected(source, last) : [];
  for (const walked of below) {
    const item = { entry: walked.entry, rel: base === '' ? walked.rel : `${base}/${walked.rel}` };
    if (item.entry.stats.isDirectory()) dirs.set(item.rel, item);
    // A pattern matching a directory matches everything below it.
    if ((!matcher || matcher.excludes(item.rel)) && !excluded(item.rel)) emit(item);
  }
  return selected;
}
