// Registry authentication: the `WWW-Authenticate` challenge of a 401, and the
// bearer tokens of Docker's token protocol, fetched from the challenge's realm
// and cached per scope. Passwords go into headers only, never into messages.
import { NboxError } from '../errors';
import type { Credentials } from './credentials';

/** Challenge is one challenge of a `WWW-Authenticate` header: a lowercase scheme and its lowercase-named parameters. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** TokenFetch sends a GET to a token realm and returns its status and body. */
export type TokenFetch = (url: URL, headers: Record<string, string>) => Promise<{ status: number; body: Buffer }>;

/** RegistryAuthOptions configure a RegistryAuth: the registry (for messages), credentials, and how to reach token realms. */
export interface RegistryAuthOptions {
  registry: string;
  credentials: Credentials | null;
  fetchToken: TokenFetch;
  now?: () => number;
}

interface CachedToken {
  scopes: string[];
  pending: Promise<{ token: string; expiresAt: number }>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const UNQUOTED_VALUE = /[^\s,]*/y;
// The token spec's default lifetime when a server gives none.
const DEFAULT_TOKEN_SECONDS = 60;
// Renew a token this long before it expires, so a request does not race its expiry.
const RENEW_MARGIN_MS = 10_000;

/** parseChallenges parses a `WWW-Authenticate` header (RFC 9110 §11.6.1): challenges and parameters are comma-separated,
 * values are tokens or quoted strings that may hold commas and `\`-escapes. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let at = 0;
  const skip = (chars: string) => {
    while (at < header.length && chars.includes(header[at])) at++;
  };
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at;
    const found = pattern.exec(header)?.[0];
    if (found) at += found.length;
    return found;
  };
  const quoted = (): string => {
    let value = '';
    for (at++; at < header.length && header[at] !== '"'; at++) value += header[header[at] === '\\' ? ++at : at] ?? '';
    at++;
    return value;
  };
  for (;;) {
    skip(' \t,');
    const scheme = match(TOKEN_CHAR);
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skip(' \t');
      const start = at;
      const name = match(TOKEN_CHAR);
      skip(' \t');
      // A name without `=` begins the next challenge.
      if (!name || header[at] !== '=') {
        at = start;
        break;
      }
      at++;
      skip(' \t');
      challenge.params[name.toLowerCase()] = header[at] === '"' ? quoted() : (match(UNQUOTED_VALUE) ?? '');
      skip(' \t');
      if (header[at] !== ',') break;
      at++;
    }
  }
  return challenges;
}

/** pullScope is the token scope to read a repository. */
export const pullScope = (repository: string): string => `repository:${repository}:pull`;

/** pushScope is the token scope to read and write a repository. */
export const pushScope = (repository: string): string => `repository:${repository}:pull,push`;

/** authFailure is the error for a registry that refuses the client after authentication was tried. */
export function authFailure(registry: string, subject: string, hasCredentials: boolean): NboxError {
  return new NboxError(
    'ERR_NBOX_AUTH',
    hasCredentials ? `unauthorized: incorrect username or password for ${registry}` : `unauthorized: authentication required: ${subject}`,
  );
}

/** RegistryAuth answers the Authorization header for a request, once the registry has challenged the client. */
export class RegistryAuth {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly now: () => number;

  constructor(private readonly options: RegistryAuthOptions) {
    this.now = options.now ?? Date.now;
  }

  /** scheme is the scheme the registry asked for (`basic`, `bearer`), or undefined before any challenge. */
  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** accept takes the challenges of a 401, preferring Bearer; it returns the scopes the challenge names,
   * or undefined when none can be answered. */
  accept(header: string | undefined): string[] | undefined {
    const challenges = parseChallenges(header ?? '');
    const chosen = challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return undefined;
    this.challenge = chosen;
    return chosen.params.scope ? chosen.params.scope.split(' ').filter(Boolean) : [];
  }

  /** authorization is the Authorization header for a request that needs scopes; fresh skips cached tokens. */
  async authorization(scopes: string[], fresh = false): Promise<string | undefined> {
    const credentials = this.options.credentials;
    if (this.challenge?.scheme === 'basic') return credentials ? basicHeader(credentials) : undefined;
    if (this.challenge?.scheme === 'bearer') return `Bearer ${await this.token(this.challenge, scopes, fresh)}`;
    return undefined;
  }

  private async token(challenge: Challenge, scopes: string[], fresh: boolean): Promise<string> {
    const cached = fresh ? undefined : [...this.tokens.values()].find((entry) => covers(entry.scopes, scopes));
    if (cached) {
      const held = await cached.pending;
      if (held.expiresAt - RENEW_MARGIN_MS > this.now()) return held.token;
    }
    const key = [...scopes].sort().join(' ');
    const entry: CachedToken = { scopes, pending: this.fetchToken(challenge, scopes) };
    this.tokens.set(key, entry);
    entry.pending.catch(() => {
      if (this.tokens.get(key) === entry) this.tokens.delete(key);
    });
    return (await entry.pending).token;
  }

  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<{ token: string; expiresAt: number }> {
    const { registry, credentials } = this.options;
    let url: URL;
    try {
      url = new URL(challenge.params.realm);
    } catch {
      throw new NboxError('ERR_NBOX_AUTH', `registry ${registry} gave an invalid token realm: ${challenge.params.realm}`);
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (credentials) {
      url.searchParams.set('account', credentials.username);
      headers.Authorization = basicHeader(credentials);
    }
    const { status, body } = await this.options.fetchToken(url, headers);
    if (status === 401 || status === 403) throw authFailure(registry, registry, credentials !== null);
    if (status !== 200) throw new NboxError('ERR_NBOX_AUTH', `auth server ${url.host} answered ${status} to a token request for ${registry}`);
    let answer: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      answer = JSON.parse(body.toString('utf8'));
    } catch {
      throw new NboxError('ERR_NBOX_AUTH', `auth server ${url.host} sent an invalid token response`);
    }
    const token = [answer?.token, answer?.access_token].find((t): t is string => typeof t === 'string' && t !== '');
    if (!token) throw new NboxError('ERR_NBOX_AUTH', `auth server ${url.host} sent no token`);
    const seconds = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : DEFAULT_TOKEN_SECONDS;
    return { token, expiresAt: this.now() + seconds * 1000 };
  }
}

function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

// A token for `repository:a:pull,push` also serves a request that needs `repository:a:pull`.
function covers(held: string[], wanted: string[]): boolean {
  return wanted.every((scope) => {
    const [resource, actions] = splitScope(scope);
    return held.some((h) => {
      const [heldResource, heldActions] = splitScope(h);
      return heldResource === resource && (heldActions.includes('*') || actions.every((a) => heldActions.includes(a)));
    });
  });
}

function splitScope(scope: string): [string, string[]] {
  const colon = scope.lastIndexOf(':');
  return [scope.slice(0, colon), scope.slice(colon + 1).split(',')];
}
