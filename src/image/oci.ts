// OCI image-spec types (config, history) as nbox stores them. Types only.
import type { Platform } from './platform';

/** HealthConfig is Docker's Config.Healthcheck: durations in nanoseconds, a missing or 0 field inherits (or takes the default). */
export interface HealthConfig {
  /** [] inherits; ["NONE"] disables; ["CMD", arg...] execs; ["CMD-SHELL", command] runs the container's shell. */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** ImageConfigBody is the `config` object of an OCI image config: how to run the image. */
export interface ImageConfigBody {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Shell?: string[];
  Healthcheck?: HealthConfig;
  OnBuild?: string[];
}

/** HistoryEntry is one step of an image's history, as Docker records it. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** ImageConfig is an OCI image config; its sha256 is the image ID. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  config: ImageConfigBody;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** Media types of the OCI image spec and Docker's schema 2 that nbox reads and writes. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** GZIP_LAYER_TYPES are the media types of gzip-compressed layer blobs, Docker's and OCI's. */
export const GZIP_LAYER_TYPES: ReadonlySet<string> = new Set([MediaType.dockerLayerGzip, MediaType.ociLayerGzip]);

/** Descriptor points at a blob or manifest by digest, with its size and media type. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** ImageManifest is a Docker schema 2 or OCI image manifest: one config and its layers. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** ImageIndex is a Docker manifest list or OCI index: one manifest per platform. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}
