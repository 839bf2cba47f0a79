// DESIGN.md's import arrows, checked by `npm test` (and so by CI):
//   cli → engine → api; cli → api → {builder, runtime, registry, image}; builder → {dockerfile, image, runtime};
//   registry → image; {image, runtime} → store → sys; everything may import errors (and filter-args);
//   dockerfile imports nothing else. `pool` is a shared helper of builder and registry.
// The arrows point one way, so no cycle between folders can form.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'cli-only-through-api', severity: 'error', comment: 'The CLI is a thin layer over the library API.',
      from: { path: '^src/cli/' }, to: { path: '^src/(builder|image|runtime|registry|dockerfile|store|sys|api)/' } },
    { name: 'engine-only-through-api', severity: 'error', comment: 'The Engine API server is a thin layer over the library API, as the CLI.',
      from: { path: '^src/engine/' }, to: { path: '^src/(builder|image|runtime|registry|dockerfile|store|sys|api|cli)/' } },
    { name: 'api-over-the-four', severity: 'error', comment: 'The API is a facade over builder, runtime, registry and image.',
      from: { path: '^src/api(\\.ts$|/)' }, to: { path: '^src/(sys|store|dockerfile|cli)/' } },
    { name: 'nothing-imports-cli-or-api', severity: 'error',
      from: { path: '^src/(builder|image|runtime|registry|dockerfile|store|sys)/' }, to: { path: '^src/(cli/|engine/|api(\\.ts$|/))' } },
    { name: 'dockerfile-is-pure', severity: 'error', comment: 'dockerfile/ imports nothing but errors.',
      from: { path: '^src/dockerfile/' }, to: { path: '^src/', pathNot: ['^src/dockerfile/', '^src/errors\\.ts$'] } },
    { name: 'sys-imports-errors-only', severity: 'error',
      from: { path: '^src/sys/' }, to: { path: '^src/', pathNot: ['^src/sys/', '^src/errors\\.ts$'] } },
    { name: 'store-over-sys-only', severity: 'error', comment: 'The store root is what every other folder needs of the disk: it needs nothing above it.',
      from: { path: '^src/store/' }, to: { path: '^src/', pathNot: ['^src/store/', '^src/sys/', '^src/errors\\.ts$'] } },
    { name: 'image-below-the-rest', severity: 'error',
      from: { path: '^src/image/' }, to: { path: '^src/(builder|runtime|registry|dockerfile|pool)' } },
    { name: 'runtime-below-builder-and-registry', severity: 'error',
      comment: "Go durations are read by one parser: a HEALTHCHECK's and `run --health-*`'s alike.",
      from: { path: '^src/runtime/' }, to: { path: '^src/(builder|registry|dockerfile|pool)', pathNot: '^src/dockerfile/duration\\.ts$' } },
    { name: 'registry-uses-image-only', severity: 'error',
      from: { path: '^src/registry/' }, to: { path: '^src/(builder|runtime|dockerfile|store|sys)/' } },
    { name: 'builder-through-image-and-runtime', severity: 'error', comment: 'The builder reaches the addon through image/ and runtime/.',
      from: { path: '^src/builder/' }, to: { path: '^src/(registry|store|sys)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
