// Image references, parsed once by Docker's grammar and normalization
// (distribution/reference): [domain/]path[:tag][@digest]. The first component
// is a registry host only when it has a dot or a colon, is `localhost`, or is
// not lower case; else the domain is Docker Hub's, where a one-component path
// gains `library/`. Everything that needs a domain, a path or a familiar name
// asks an ImageReference, so the rule lives here alone.
import { NboxError } from '../errors';

/** DOCKER_HUB is the domain of a reference that names none. */
export const DOCKER_HUB = 'docker.io';

/** ImageReference is a reference in Docker's normalized form: `busybox` has domain `docker.io` and path `library/busybox`. */
export interface ImageReference {
  domain: string;
  path: string;
  /** As written: no `latest` is assumed here. */
  tag?: string;
  digest?: string;
}

/** ReferenceParts is a normalized reference split into its familiar repository, tag and digest. */
export interface ReferenceParts {
  repository: string;
  tag?: string;
  digest?: string;
}

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainPattern = new RegExp(`^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const pathComponentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^sha256:[0-9a-f]{64}$/;
const maxNameLength = 255;
const legacyHubDomain = 'index.docker.io';
const officialPrefix = 'library/';

/** parseReference validates ref and normalizes its name; an invalid one is a usage error naming it. */
export function parseReference(ref: string): ImageReference {
  const invalid = () => new NboxError('ERR_NBOX_USAGE', `invalid reference format: ${ref}`);
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) throw invalid();
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) throw invalid();
  }
  if (rest.length > maxNameLength) throw invalid();
  const slash = rest.indexOf('/');
  const first = rest.slice(0, slash);
  const hasDomain = slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  if (hasDomain && !domainPattern.test(first)) throw invalid();
  const path = hasDomain ? rest.slice(slash + 1) : rest;
  if (!path.split('/').every((component) => pathComponentPattern.test(component))) throw invalid();
  const domain = !hasDomain || first === legacyHubDomain ? DOCKER_HUB : first;
  return { domain, path: domain === DOCKER_HUB && !path.includes('/') ? officialPrefix + path : path, tag, digest };
}

/** familiarName is the name as Docker shows it: `busybox`, `user/app`, `library/a/b`, `localhost:5000/app`. */
export function familiarName(ref: Pick<ImageReference, 'domain' | 'path'>): string {
  if (ref.domain !== DOCKER_HUB) return `${ref.domain}/${ref.path}`;
  const official = ref.path.startsWith(officialPrefix) ? ref.path.slice(officialPrefix.length) : undefined;
  return official !== undefined && !official.includes('/') ? official : ref.path;
}

/** familiarReference is a reference as a listing shows it: its familiar name and the tag it was written with, no
 * digest (`docker.io/library/busybox:1@sha256:…` → `busybox:1`); one that does not parse is shown as it is. */
export function familiarReference(ref: string): string {
  try {
    const parsed = parseReference(ref);
    return familiarName(parsed) + (parsed.tag === undefined ? '' : `:${parsed.tag}`);
  } catch {
    return ref;
  }
}

/** fullName is the name with its domain: `docker.io/library/busybox`. */
export function fullName(ref: Pick<ImageReference, 'domain' | 'path'>): string {
  return `${ref.domain}/${ref.path}`;
}

/** splitReference validates ref and returns its familiar parts; the tag defaults to `latest` unless a digest is given. */
export function splitReference(ref: string): ReferenceParts {
  const parsed = parseReference(ref);
  return { repository: familiarName(parsed), tag: parsed.tag ?? (parsed.digest ? undefined : 'latest'), digest: parsed.digest };
}

/** normalizeReference returns ref in canonical form: `busybox` → `busybox:latest`, digests kept. */
export function normalizeReference(ref: string): string {
  const { repository, tag, digest } = splitReference(ref);
  return repository + (tag ? `:${tag}` : '') + (digest ? `@${digest}` : '');
}

/** normalizeTag normalizes name[:tag] for use as a tag; a digest is refused. */
export function normalizeTag(name: string): string {
  if (splitReference(name).digest) throw new NboxError('ERR_NBOX_USAGE', `a tag cannot contain a digest: ${name}`);
  return normalizeReference(name);
}

/** canonicalName expands a repository name as Docker does: `busybox` → `docker.io/library/busybox`. */
export function canonicalName(repository: string): string {
  return fullName(parseReference(repository));
}
