// What pull and push share: their options and the progress they report.

/** TransferProgress is one step of one layer (or the config) as Docker prints it: `ID: STATUS`. */
export interface TransferProgress {
  /** The blob's short digest (12 hex digits). */
  id: string;
  status: string;
}

/** TransferOptions are pull's and push's options. */
export interface TransferOptions {
  /** As podman's --tls-verify; unset: plain HTTP for loopback registries, verified HTTPS otherwise. */
  tlsVerify?: boolean;
  /** The credentials file, instead of Docker's config.json. */
  authFile?: string;
  /** Called on each step of each layer. */
  progress?: (event: TransferProgress) => void;
}

/** shortDigest is how Docker names a blob in progress lines: the first 12 hex digits. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
