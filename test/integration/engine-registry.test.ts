// `nbox serve`'s pull and push against Debian's docker-registry with htpasswd
// auth: the credentials come in X-Registry-Auth (base64url JSON, as the docker
// CLI sends them), a wrong or missing one gets Docker's unauthorized error.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { serveEngine, type EngineServer } from '../../src/engine/server';
import { request, type Reply } from '../helpers/engine-client';
import { fileScope, optionalTest, rootTest, sharedTestStore } from '../helpers/env';
import { HTPASSWD_BIN, REGISTRY_BIN, startRegistry, type TestRegistry } from '../helpers/registry';

const test = optionalTest(rootTest(), existsSync(REGISTRY_BIN) && existsSync(HTPASSWD_BIN) ? null : `${REGISTRY_BIN} or ${HTPASSWD_BIN} missing`);
const scope = fileScope(test);
const store = sharedTestStore(test);
let server: EngineServer;
let socket: string;
let registry: TestRegistry;

const USER = 'engine-user';
const PASSWORD = 'engine-secret';

test.before(async () => {
  socket = join(dirname(store.root), 'engine-registry.sock');
  server = await serveEngine(store.nbox, { socket });
  scope.teardown(() => server.close());
  registry = await startRegistry('htpasswd', { [USER]: PASSWORD });
  scope.teardown(() => registry.stop());
});

const V = '/v1.50';
const auth = (config: object) => ({ 'X-Registry-Auth': Buffer.from(JSON.stringify(config)).toString('base64url') });

/** failure is a reply's error: its message as a status, or the errorDetail that ends its stream. */
function failure(reply: Reply): string | undefined {
  if (reply.status !== 200) return `${reply.status} ${(JSON.parse(reply.body) as { message: string }).message}`;
  const last = JSON.parse(reply.body.trim().split('\n').at(-1) ?? '{}') as { errorDetail?: { message: string } };
  return last.errorDetail ? `stream ${last.errorDetail.message}` : undefined;
}

test('push and pull carry the X-Registry-Auth credentials; none or wrong ones are unauthorized', async (t) => {
  const repo = `${registry.host}/engine/bb`;
  t.is((await request(socket, 'POST', `${V}/images/bb/tag?repo=${repo}&tag=v1`)).status, 201);
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/images/${repo}:v1?force=1`)));

  t.regex(failure(await request(socket, 'POST', `${V}/images/${repo}/push?tag=v1`)) ?? '', /unauthorized: authentication required/);
  const wrong = auth({ username: USER, password: 'nope', serveraddress: registry.host });
  t.regex(failure(await request(socket, 'POST', `${V}/images/${repo}/push?tag=v1`, undefined, wrong)) ?? '', /unauthorized: incorrect username or password/);

  const good = auth({ username: USER, password: PASSWORD, serveraddress: registry.host });
  const pushed = await request(socket, 'POST', `${V}/images/${repo}/push?tag=v1`, undefined, good);
  t.is(failure(pushed), undefined);
  const digest = pushed.body.trim().split('\n').map((line) => JSON.parse(line) as { aux?: { Digest: string } }).find((m) => m.aux)?.aux?.Digest;
  t.regex(digest ?? '', /^sha256:[0-9a-f]{64}$/);

  t.is((await request(socket, 'DELETE', `${V}/images/${repo}:v1`)).status, 200);
  // An unknown repository is only told apart once in: wrong credentials fail first, as with Docker.
  t.regex(failure(await request(socket, 'POST', `${V}/images/create?fromImage=${repo}&tag=v1`, undefined, wrong)) ?? '', /^401 unauthorized: incorrect username or password/);
  t.regex(failure(await request(socket, 'POST', `${V}/images/create?fromImage=${repo}&tag=v1`)) ?? '', /^401 unauthorized: authentication required/);
  t.is((await request(socket, 'GET', `${V}/images/${repo}:v1/json`)).status, 404, 'a refused pull leaves no image');

  // The `auth` form (base64 of user:password) and the standard base64 alphabet work too.
  const basic = { 'X-Registry-Auth': Buffer.from(JSON.stringify({ auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') })).toString('base64') };
  const pulled = await request(socket, 'POST', `${V}/images/create?fromImage=${repo}&tag=v1`, undefined, basic);
  t.is(failure(pulled), undefined);
  t.is((await request(socket, 'GET', `${V}/images/${repo}:v1/json`)).status, 200);

  const malformed = await request(socket, 'POST', `${V}/images/create?fromImage=${repo}&tag=v1`, undefined, { 'X-Registry-Auth': 'not-json' });
  t.is(malformed.status, 400);
  t.regex((JSON.parse(malformed.body) as { message: string }).message, /^invalid X-Registry-Auth header: /);
  t.false(pushed.body.includes(PASSWORD) || pulled.body.includes(PASSWORD), 'no password in any reply');
});
