// Registries for registry tests: Debian's docker-registry (distribution 2.8)
// on 127.0.0.1 with a free port and temporary storage, without auth, with
// htpasswd basic auth, or with token auth against a small token server here.
// Each is stopped by its pid, even when a test fails.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** REGISTRY_BIN is Debian's docker-registry. */
export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** HTPASSWD_BIN makes bcrypt htpasswd files (Debian's apache2-utils). */
export const HTPASSWD_BIN = '/usr/bin/htpasswd';

/** RegistryAuthMode is how a test registry authenticates: not at all, htpasswd (Basic), or tokens from a token server (Bearer). */
export type RegistryAuthMode = 'none' | 'htpasswd' | 'token';

/** TestRegistry is a running registry: its `127.0.0.1:PORT` and how to stop it. */
export interface TestRegistry {
  host: string;
  /** The registry's storage root (`docker/registry/v2/...` under it), for tests that tamper with blobs. */
  storage: string;
  /** Token requests the token server answered, when auth is `token`. */
  tokenRequests: URL[];
  stop(): Promise<void>;
}

/** SelfSignedCert is a PEM key and certificate made by openssl. */
export interface SelfSignedCert {
  key: string;
  cert: string;
}

/** makeSelfSignedCert makes an RSA key and a self-signed certificate for 127.0.0.1 in dir. */
export function makeSelfSignedCert(dir: string, name: string): SelfSignedCert {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { key, cert };
}

/** freePort asks the kernel for a port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** startRegistry starts docker-registry with users (name → password) under the given auth mode. */
export async function startRegistry(auth: RegistryAuthMode = 'none', users: Record<string, string> = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-registry-'));
  const cleanups: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })];
  const tokenRequests: URL[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    let authConfig: object | undefined;
    if (auth === 'htpasswd') {
      if (!existsSync(HTPASSWD_BIN)) throw new Error(`${HTPASSWD_BIN} missing (apt-get install apache2-utils)`);
      const lines = Object.entries(users).map(([user, password]) => execFileSync(HTPASSWD_BIN, ['-Bbn', user, password], { encoding: 'utf8' }).trim());
      await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
      authConfig = { htpasswd: { realm: 'nbox-test', path: join(dir, 'htpasswd') } };
    } else if (auth === 'token') {
      const signer = makeSelfSignedCert(dir, 'token-signer');
      const server = await startTokenServer({ users, issuer: 'nbox-test-issuer', service: 'nbox-test-registry', signer, seen: tokenRequests });
      cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
      const { port } = server.address() as AddressInfo;
      authConfig = {
        token: { realm: `http://127.0.0.1:${port}/token`, service: 'nbox-test-registry', issuer: 'nbox-test-issuer', rootcertbundle: signer.cert },
      };
    }
    const child = await spawnRegistry(dir, authConfig);
    cleanups.push(() => stopChild(child.process));
    return { host: child.host, storage: join(dir, 'storage'), tokenRequests, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

// Starts the registry on a free port; another process may take the port between
// the probe and the registry's bind, so a registry that exits at once is retried.
async function spawnRegistry(dir: string, auth: object | undefined): Promise<{ process: ChildProcess; host: string }> {
  for (let attempt = 1; ; attempt++) {
    const host = `127.0.0.1:${await freePort()}`;
    const config = {
      version: '0.1',
      log: { level: 'error', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'storage') }, maintenance: { uploadpurging: { enabled: false } } },
      http: { addr: host, secret: randomBytes(16).toString('hex') },
      ...(auth ? { auth } : {}),
    };
    // JSON is YAML, so the config needs no YAML writer.
    await writeFile(join(dir, 'config.yml'), JSON.stringify(config));
    const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-4000)));
    if (await answers(host, child)) return { process: child, host };
    await stopChild(child);
    if (attempt === 3) throw new Error(`docker-registry did not start on ${host}: ${stderr.trim()}`);
  }
}

// Polls GET /v2/ until the registry answers anything, for up to 15 s.
async function answers(host: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    const status = await new Promise<number>((resolve) => {
      http.get(`http://${host}/v2/`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', () => resolve(0));
    });
    if (status !== 0) return true;
    await sleep(50);
  }
  return false;
}

// SIGTERM by pid, then SIGKILL if it lingers.
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

interface TokenServerOptions {
  users: Record<string, string>;
  issuer: string;
  service: string;
  signer: SelfSignedCert;
  seen: URL[];
}

/** startTokenServer serves Docker's token protocol on 127.0.0.1: GET /token?service&scope with optional Basic auth
 * answers an RS256 JWT that grants every requested action to a known user, none to anonymous, and 401 to a wrong password. */
export async function startTokenServer(options: TokenServerOptions): Promise<http.Server> {
  const key = createPrivateKey(await readFile(options.signer.key));
  const certDer = new X509Certificate(await readFile(options.signer.cert)).raw.toString('base64');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    options.seen.push(url);
    const user = basicUser(req.headers.authorization, options.users);
    if (user === null) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = user === undefined ? [] : url.searchParams.getAll('scope').flatMap((scope) => scope.split(' ')).map(scopeClaim);
    const claims = {
      iss: options.issuer,
      sub: user ?? '',
      aud: options.service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const token = signJwt({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }, claims, key);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

// undefined: anonymous; null: wrong credentials.
function basicUser(header: string | undefined, users: Record<string, string>): string | undefined | null {
  if (!header) return undefined;
  const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString();
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && Object.hasOwn(users, user) && users[user] === decoded.slice(colon + 1) ? user : null;
}

function scopeClaim(scope: string): { type: string; name: string; actions: string[] } {
  const [type, ...rest] = scope.split(':');
  const actions = rest.pop() ?? '';
  return { type, name: rest.join(':'), actions: actions.split(',') };
}

function signJwt(header: object, claims: object, key: ReturnType<typeof createPrivateKey>): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const signingInput = `${encode(header)}.${encode(claims)}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
}
