// Error classes shared by every layer. Each carries a stable `code` so the CLI
// and library callers can tell failures apart without parsing messages.

export type NboxErrorCode =
  | 'ERR_NBOX_USAGE'
  | 'ERR_NBOX_NOT_ROOT'
  | 'ERR_NBOX_NO_SUCH_IMAGE'
  | 'ERR_NBOX_NO_SUCH_CONTAINER'
  | 'ERR_NBOX_NO_SUCH_VOLUME'
  | 'ERR_NBOX_NO_SUCH_NETWORK'
  | 'ERR_NBOX_CONFLICT'
  | 'ERR_NBOX_USER'
  | 'ERR_NBOX_STORE'
  | 'ERR_NBOX_IMPORT'
  | 'ERR_NBOX_COPY'
  | 'ERR_NBOX_DOCKERFILE'
  | 'ERR_NBOX_BUILD'
  | 'ERR_NBOX_REGISTRY'
  | 'ERR_NBOX_AUTH'
  | 'ERR_NBOX_SYS';

/** NboxError is the base of every error nbox reports on purpose. */
export class NboxError extends Error {
  readonly code: NboxErrorCode;
  constructor(code: NboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NboxError';
    this.code = code;
  }
}

/** SysError is a failed system call, in the addon or in a container's setup before exec. */
export class SysError extends NboxError {
  readonly syscall: string;
  readonly errno: number;
  readonly errnoName: string;
  readonly step: string;
  readonly path: string | undefined;
  constructor(fields: { step: string; syscall: string; errno: number; errnoName: string; path?: string; message: string }) {
    super('ERR_NBOX_SYS', fields.message);
    this.name = 'SysError';
    this.syscall = fields.syscall;
    this.errno = fields.errno;
    this.errnoName = fields.errnoName;
    this.step = fields.step;
    this.path = fields.path;
  }
}

/** DockerfileError is a Dockerfile that cannot be parsed or built as written;
 * its message reads `Dockerfile:LINE: what is wrong`. */
export class DockerfileError extends NboxError {
  readonly file: string;
  readonly line: number;
  readonly detail: string;
  constructor(fields: { file?: string; line: number; message: string }) {
    const file = fields.file ?? 'Dockerfile';
    super('ERR_NBOX_DOCKERFILE', `${file}:${fields.line}: ${fields.message}`);
    this.name = 'DockerfileError';
    this.file = file;
    this.line = fields.line;
    this.detail = fields.message;
  }
}

/** isErrno tells whether a Node fs error carries the given errno code. */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/** fsErrorText is a Node fs error's reason as Go prints it (`not a directory`), else the error's message. */
export function fsErrorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Node writes `ENOTDIR: not a directory, lstat '/x/'`: the words between the code and the call.
  return /^E[A-Z0-9]+: ([^,]+),/.exec(message)?.[1] ?? message;
}
