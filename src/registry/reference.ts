// Image references as the distribution API needs them: which registry to talk
// to and the full repository path there, after Docker's normalisation
// (`busybox` is `docker.io/library/busybox:latest`), which image/reference does.
import { DOCKER_HUB, familiarName as familiarReferenceName, parseReference } from '../image/reference';

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
  const { domain, path, tag, digest } = parseReference(ref);
  return { registry: domain, repository: path, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** familiarName is how Docker shows a repository in messages: `busybox`, `user/app`, `127.0.0.1:5000/app`. */
export function familiarName(registry: string, repository: string): string {
  return familiarReferenceName({ domain: registry, path: repository });
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
