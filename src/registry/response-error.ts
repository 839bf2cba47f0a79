// Turns a registry's error response into one line: the registry's own message
// (from the distribution spec's `{"errors":[{code, message}]}` body) and what it was about.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { NboxError } from '../errors';
import { readBody } from './http';

/** ResponseContext says what a failed request was for: the server, the thing asked for, and a secret to keep out of messages. */
export interface ResponseContext {
  peer: string;
  subject: string;
  kind: 'manifest' | 'blob' | 'upload' | 'registry';
  secret?: string;
}

const MAX_ERROR_BODY = 64 * 1024;
const MAX_MESSAGE_LENGTH = 300;

/** responseError reads an unexpected response's body and makes the error to throw. */
export async function responseError(response: IncomingMessage, context: ResponseContext): Promise<NboxError> {
  const status = response.statusCode ?? 0;
  const body = await readBody(response, MAX_ERROR_BODY, context.peer).catch(() => Buffer.alloc(0));
  const told = registryMessage(body, context.secret);
  const { subject } = context;
  if (status === 404 && context.kind === 'manifest') return new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `${told ?? 'manifest unknown'}: ${subject}`);
  if (status === 404 && context.kind === 'blob') return new NboxError('ERR_NBOX_REGISTRY', `${told ?? 'blob unknown to registry'}: ${subject}`);
  if (status === 401) return new NboxError('ERR_NBOX_AUTH', `unauthorized: ${told ?? 'authentication required'}: ${subject}`);
  if (status === 403) return new NboxError('ERR_NBOX_AUTH', `denied: ${told ?? 'requested access to the resource is denied'}: ${subject}`);
  if (told) return new NboxError('ERR_NBOX_REGISTRY', `${told}: ${subject}`);
  return new NboxError('ERR_NBOX_REGISTRY', `${context.peer} answered ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() + ` for ${subject}`);
}

// The first error's message (else its code, as words), on one short line, without the secret.
function registryMessage(body: Buffer, secret: string | undefined): string | undefined {
  let first: { code?: unknown; message?: unknown } | undefined;
  try {
    first = JSON.parse(body.toString('utf8'))?.errors?.[0];
  } catch {
    return undefined;
  }
  const text =
    typeof first?.message === 'string' && first.message.trim() !== ''
      ? first.message
      : typeof first?.code === 'string'
        ? first.code.toLowerCase().replace(/_/g, ' ')
        : undefined;
  if (text === undefined) return undefined;
  let line = text.replace(/[\x00-\x1f\x7f\s]+/g, ' ').trim();
  if (secret) line = line.split(secret).join('****');
  return line.length > MAX_MESSAGE_LENGTH ? `${line.slice(0, MAX_MESSAGE_LENGTH)}…` : line;
}
