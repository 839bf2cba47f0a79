// The one platform nbox runs and builds for. The seccomp filter (native/child.c)
// is written for x86_64's syscall numbers, so that is the only architecture:
// package.json's "os" and "cpu" declare the same, and a unit test holds the three
// together. Images made here carry it, pulls pick it from lists, and a
// Dockerfile's FROM --platform is checked against it.

/** Platform is the os/architecture an image runs on, as in an index entry. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** ARCHITECTURES maps the Node architectures nbox supports (package.json's "cpu") to their OCI (Go) names. */
export const ARCHITECTURES: Readonly<Record<string, string>> = { x64: 'amd64' };

/** HOST_PLATFORM is the platform of this machine: what images made here are for, and what is picked from lists. */
export const HOST_PLATFORM: Readonly<Platform> = { os: 'linux', architecture: ARCHITECTURES[process.arch] ?? process.arch };

/** formatPlatform renders a platform as Docker does: `linux/amd64`, `linux/arm/v7`. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
