// `docker images REPOSITORY[:TAG]`: which of an image's names a pattern
// matches, as Docker's reference filter does (distribution's FamiliarMatch):
// a shell pattern over the familiar `name:tag`, else over the name alone.
import { NboxError } from '../errors';
import { parseFilterArgs } from '../filter-args';
import type { ImageRecord } from './images';
import { familiarName, normalizeReference, parseReference, splitReference } from './reference';

/** ListOptions are `docker images`' choices: `-a`, a REPOSITORY[:TAG] pattern, and `--filter`s. */
export interface ListOptions {
  all?: boolean;
  reference?: string;
  /** `key=value`: dangling=true|false, label=KEY or KEY=VALUE, reference=PATTERN, before=IMAGE, since=IMAGE. */
  filters?: string[];
}

/** listedImages is what `docker images` lists of images: intermediate build images
 * (untagged parents of other images) only with `all`; with a reference pattern,
 * only the images with a name it matches, each with those names alone. */
export function listedImages(images: ImageRecord[], options: ListOptions): ImageRecord[] {
  const parents = new Set(images.map((image) => image.parent));
  const listed = options.all ? images : images.filter((image) => image.tags.length > 0 || !parents.has(image.id));
  const filters = parseFilters(options.filters ?? []);
  const patterns = [...(options.reference === undefined ? [] : [options.reference]), ...filters.filter((f) => f.key === 'reference').map((f) => f.value)];
  const kept = listed.filter((image) => filters.every((filter) => filter.key === 'reference' || holds(filter, image, images)));
  if (patterns.length === 0) return kept;
  // As the daemon: an image stays with the names any of the patterns match.
  return kept.map((image) => ({ ...image, tags: image.tags.filter((tag) => patterns.some((pattern) => matchingTags(pattern, [tag]).length > 0)) }))
    .filter((image) => image.tags.length > 0);
}

type FilterKey = 'dangling' | 'label' | 'reference' | 'before' | 'since';
const FILTER_KEYS: FilterKey[] = ['dangling', 'label', 'reference', 'before', 'since'];

function parseFilters(specs: string[]): Array<{ key: FilterKey; value: string }> {
  const byKey = parseFilterArgs(specs, FILTER_KEYS);
  const badDangling = byKey.get('dangling')?.find((value) => !['true', 'false', '1', '0'].includes(value.toLowerCase()));
  if (badDangling !== undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid filter 'dangling=${badDangling}'`);
  return [...byKey].flatMap(([key, values]) => values.map((value) => ({ key: key as FilterKey, value })));
}

// holds says whether an image passes one filter (reference is applied to its names, above).
function holds(filter: { key: FilterKey; value: string }, image: ImageRecord, images: ImageRecord[]): boolean {
  switch (filter.key) {
    case 'dangling':
      return (image.tags.length === 0) === ['true', '1'].includes(filter.value.toLowerCase());
    case 'label': {
      const equals = filter.value.indexOf('=');
      const key = equals < 0 ? filter.value : filter.value.slice(0, equals);
      const held = image.config.config?.Labels?.[key];
      return held !== undefined && (equals < 0 || held === filter.value.slice(equals + 1));
    }
    case 'before':
      return image.created < namedImage(filter.value, images).created;
    case 'since':
      return image.created > namedImage(filter.value, images).created;
    default:
      return true;
  }
}

// namedImage finds before= and since='s image among the listed ones, by name or ID prefix, as the daemon's GetImage.
function namedImage(ref: string, images: ImageRecord[]): ImageRecord {
  const normalized = (() => {
    try {
      return normalizeReference(ref);
    } catch {
      return ref;
    }
  })();
  const id = ref.replace(/^sha256:/, '');
  const found = images.find((image) => image.tags.some((tag) => tag === ref || normalizeReference(tag) === normalized))
    ?? (/^[0-9a-f]+$/.test(id) ? images.find((image) => image.id.replace(/^sha256:/, '').startsWith(id)) : undefined);
  if (!found) throw new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `No such image: ${ref}`);
  return found;
}

/** matchingTags returns the tags (familiar `name:tag`) the pattern matches. */
export function matchingTags(pattern: string, tags: string[]): string[] {
  const match = globPattern(familiarPattern(pattern));
  return tags.filter((tag) => match.test(tag) || match.test(splitReference(tag).repository));
}

// A pattern that is a plain reference is read in familiar form, so
// `docker.io/library/busybox` finds `busybox`; a name alone keeps no tag.
function familiarPattern(pattern: string): string {
  if (/[*?[\\]/.test(pattern)) return pattern;
  try {
    const parsed = parseReference(pattern);
    if (parsed.digest) return pattern;
    return parsed.tag !== undefined ? normalizeReference(pattern) : familiarName(parsed);
  } catch {
    return pattern;
  }
}

// globPattern compiles Go's path.Match syntax: `*` and `?` stop at "/",
// `[...]` with `^` for negation, `\` escapes. A malformed class matches itself.
function globPattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) source += escape(pattern[++i]!);
    else if (c === '[' && pattern.indexOf(']', i + 2) > i) {
      const end = pattern.indexOf(']', i + 2);
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^/' : ''}${body.replace(/[\]\\^]/g, '\\$&')}]`;
      i = end;
    } else source += escape(c);
  }
  return new RegExp(`^${source}$`);
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
