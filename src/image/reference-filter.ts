// `docker images REPOSITORY[:TAG]`: which of an image's names a pattern
// matches, as Docker's reference filter does (distribution's FamiliarMatch):
// a shell pattern over the familiar `name:tag`, else over the name alone.
import type { ImageRecord } from './images';
import { familiarName, normalizeReference, parseReference, splitReference } from './reference';

/** ListOptions are `docker images`' choices: `-a`, and a REPOSITORY[:TAG] pattern. */
export interface ListOptions {
  all?: boolean;
  reference?: string;
}

/** listedImages is what `docker images` lists of images: intermediate build images
 * (untagged parents of other images) only with `all`; with a reference pattern,
 * only the images with a name it matches, each with those names alone. */
export function listedImages(images: ImageRecord[], options: ListOptions): ImageRecord[] {
  const parents = new Set(images.map((image) => image.parent));
  const listed = options.all ? images : images.filter((image) => image.tags.length > 0 || !parents.has(image.id));
  const pattern = options.reference;
  if (pattern === undefined) return listed;
  return listed.map((image) => ({ ...image, tags: matchingTags(pattern, image.tags) })).filter((image) => image.tags.length > 0);
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
