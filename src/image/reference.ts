// Image reference parsing and normalization, following Docker's grammar
// (distribution/reference): [domain/]path[:tag][@digest], in familiar form.
import { NboxError } from '../errors';

/** ReferenceParts is a normalized reference split into its repository, tag and digest. */
export interface ReferenceParts {
  repository: string;
  tag?: string;
  digest?: string;
}

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainPattern = new RegExp(`^${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?$`);
const pathComponentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^sha256:[0-9a-f]{64}$/;
const maxNameLength = 255;
const dockerHubDomains = new Set(['docker.io', 'index.docker.io']);

/** splitReference validates ref and returns its normalized parts; the tag defaults to `latest` unless a digest is given. */
export function splitReference(ref: string): ReferenceParts {
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
  const repository = familiarName(rest);
  if (repository === undefined || repository.length > maxNameLength) throw invalid();
  return { repository, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** normalizeReference returns ref in canonical form: `busybox` → `busybox:latest`, digests kept. */
export function normalizeReference(ref: string): string {
  const { repository, tag, digest } = splitReference(ref);
  return repository + (tag ? `:${tag}` : '') + (digest ? `@${digest}` : '');
}

// familiarName validates a repository name and drops Docker Hub's implicit
// `docker.io/library/` prefix, as `docker images` shows it; undefined if invalid.
function familiarName(name: string): string | undefined {
  const components = name.split('/');
  const first = components[0];
  // Docker's rule: the first component is a registry host only if it looks like one.
  const hasDomain = components.length > 1 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  if (hasDomain && !domainPattern.test(first)) return undefined;
  const path = hasDomain ? components.slice(1) : components;
  if (!path.every((component) => pathComponentPattern.test(component))) return undefined;
  if (hasDomain && !dockerHubDomains.has(first)) return name;
  if (path.length === 2 && path[0] === 'library') return path[1];
  return path.join('/');
}

/** normalizeTag normalizes name[:tag] for use as a tag; a digest is refused. */
export function normalizeTag(name: string): string {
  if (splitReference(name).digest) throw new NboxError('ERR_NBOX_USAGE', `a tag cannot contain a digest: ${name}`);
  return normalizeReference(name);
}

/** canonicalName expands a familiar repository name as Docker does: `busybox` → `docker.io/library/busybox`. */
export function canonicalName(repository: string): string {
  const slash = repository.indexOf('/');
  if (slash === -1) return `docker.io/library/${repository}`;
  const first = repository.slice(0, slash);
  return /[.:]/.test(first) || first === 'localhost' ? repository : `docker.io/${repository}`;
}
