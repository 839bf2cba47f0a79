// X-Registry-Auth: the credentials a client sends with a pull or a push, as
// Docker's registry.AuthConfig in base64url JSON. They are used for that one
// request instead of the server's credentials file, as Docker's daemon does.
import type { IncomingMessage } from 'node:http';

import type { Credentials } from '../api';
import { EngineError } from './http';

interface AuthConfig {
  username?: string;
  password?: string;
  /** base64 of `username:password`, which some clients send instead. */
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
}

/** registryAuth reads the header: undefined when absent or empty (the server's own file applies),
 * null when it names no credentials, a malformed one Docker's 400. */
export function registryAuth(req: IncomingMessage): Credentials | null | undefined {
  const header = req.headers['x-registry-auth'];
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || text.trim() === '') return undefined;
  let config: AuthConfig;
  try {
    // Node's base64 reads the URL alphabet and the standard one alike, padded or not.
    const value = JSON.parse(Buffer.from(text.trim(), 'base64').toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    config = value as AuthConfig;
  } catch (err) {
    throw new EngineError(400, `invalid X-Registry-Auth header: ${(err as Error).message}`);
  }
  if (config.identitytoken) throw new EngineError(400, 'invalid X-Registry-Auth header: identity tokens are not supported');
  if (config.username) return { username: config.username, password: config.password ?? '' };
  if (config.auth) {
    const decoded = Buffer.from(config.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new EngineError(400, 'invalid X-Registry-Auth header: auth is not base64 of username:password');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return null;
}
