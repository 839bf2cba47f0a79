// Image references as the distribution API needs them: which registry to talk
// to and the full repository path there, after Docker's normalisation
// (`busybox` is `docker.io/library/busybox:latest`).
import { splitReference } from '../image/reference';

/** DOCKER_HUB is the registry name of Docker Hub in references and messages. */
export const DOCKER_HUB = 'docker.io';

/** RemoteReference is an image reference split for the wire: the registry, the repository on it, and a tag and/or digest. */
export interface RemoteReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** parseRemoteReference parses ref (`busybox`, `localhost:5000/a/b:t`, `host/x@sha256:…`) with Docker's defaults:
 * registry `docker.io`, `library/` for one-component Docker Hub names, tag `latest` unless a digest is given. */
export function parseRemoteReference(ref: string): RemoteReference {
  const { repository: familiar, tag, digest } = splitReference(ref);
  const slash = familiar.indexOf('/');
  const first = slash === -1 ? '' : familiar.slice(0, slash);
  // splitReference keeps a registry host only when it is not Docker Hub, and by the same rule as here.
  if (first && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase())) {
    return { registry: first, repository: familiar.slice(slash + 1), tag, digest };
  }
  return { registry: DOCKER_HUB, repository: slash === -1 ? `library/${familiar}` : familiar, tag, digest };
}

/** familiarName is how Docker shows a repository in messages: `busybox`, `user/app`, `127.0.0.1:5000/app`. */
export function familiarName(registry: string, repository: string): string {
  if (registry !== DOCKER_HUB) return `${registry}/${repository}`;
  return repository.startsWith('library/') && repository.indexOf('/', 8) === -1 ? repository.slice(8) : repository;
}

/** formatRemoteReference is the familiar form of ref: `busybox:latest`, `127.0.0.1:5000/app@sha256:…`. */
export function formatRemoteReference(ref: RemoteReference): string {
  return familiarName(ref.registry, ref.repository) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** normalizeRegistry turns what a user gives `login`/`logout` (`https://index.docker.io/v1/`, `http://localhost:5000/`, `index.docker.io`)
 * into a registry name as references use it. */
export function normalizeRegistry(server: string): string {
  const host = server.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' || host === DOCKER_HUB ? DOCKER_HUB : host;
}

/** registryApiHost is the host[:port] serving the registry API: Docker Hub's is `registry-1.docker.io`. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/** credentialsKey is the key of a registry in the `auths` of Docker's config.json: Docker Hub's is `https://index.docker.io/v1/`. */
export function credentialsKey(registry: string): string {
  return registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
}

/** isLoopbackRegistry tells whether a registry is on this host (`localhost`, `127.x.x.x`, `::1`), which Docker treats as insecure. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}
