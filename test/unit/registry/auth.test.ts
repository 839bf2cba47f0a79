import test from 'ava';
import { RegistryAuth, parseChallenges, type TokenFetch } from '../../../src/registry/auth';

test('parseChallenges reads a Bearer challenge with quoted commas', (t) => {
  const header = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"';
  t.deepEqual(parseChallenges(header), [
    { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' } },
  ]);
});

test('parseChallenges reads several challenges, tokens, escapes and odd spacing', (t) => {
  const header = 'Basic realm="Registry \\"Realm\\"", charset=UTF-8 ,  Bearer realm=http://127.0.0.1:9/token , error="insufficient_scope"';
  t.deepEqual(parseChallenges(header), [
    { scheme: 'basic', params: { realm: 'Registry "Realm"', charset: 'UTF-8' } },
    { scheme: 'bearer', params: { realm: 'http://127.0.0.1:9/token', error: 'insufficient_scope' } },
  ]);
});

test('parseChallenges tolerates a bare scheme and junk', (t) => {
  t.deepEqual(parseChallenges('Negotiate'), [{ scheme: 'negotiate', params: {} }]);
  t.deepEqual(parseChallenges(''), []);
  t.deepEqual(parseChallenges('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
});

function recordingFetch(answer: { status: number; body: object }): { fetch: TokenFetch; urls: URL[]; headers: Array<Record<string, string>> } {
  const urls: URL[] = [];
  const headers: Array<Record<string, string>> = [];
  const fetch: TokenFetch = async (url, sent) => {
    urls.push(url);
    headers.push(sent);
    return { status: answer.status, body: Buffer.from(JSON.stringify(answer.body)) };
  };
  return { fetch, urls, headers };
}

const bearer = 'Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:a:pull"';

test('RegistryAuth fetches a token with service, scopes and account, and caches it per scope', async (t) => {
  const { fetch, urls, headers } = recordingFetch({ status: 200, body: { token: 'T1', expires_in: 300 } });
  const auth = new RegistryAuth({ registry: 'r', credentials: { username: 'u', password: 'p' }, fetchToken: fetch });
  t.is(await auth.authorization(['repository:a:pull']), undefined, 'no header before a challenge');
  t.deepEqual(auth.accept(bearer), ['repository:a:pull']);
  t.is(await auth.authorization(['repository:a:pull,push']), 'Bearer T1');
  t.is(urls[0].searchParams.get('service'), 'svc');
  t.deepEqual(urls[0].searchParams.getAll('scope'), ['repository:a:pull,push']);
  t.is(urls[0].searchParams.get('account'), 'u');
  t.is(headers[0].Authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
  t.is(await auth.authorization(['repository:a:pull']), 'Bearer T1', 'a pull,push token serves a pull');
  t.is(urls.length, 1);
  await auth.authorization(['repository:b:pull']);
  t.is(urls.length, 2, 'another repository needs another token');
  await auth.authorization(['repository:a:pull'], true);
  t.is(urls.length, 3, 'fresh skips the cache');
});

test('RegistryAuth shares one token fetch between concurrent requests and accepts access_token', async (t) => {
  const { fetch, urls } = recordingFetch({ status: 200, body: { access_token: 'T2' } });
  const auth = new RegistryAuth({ registry: 'r', credentials: null, fetchToken: fetch });
  auth.accept(bearer);
  const answers = await Promise.all([1, 2, 3].map(() => auth.authorization(['repository:a:pull'])));
  t.deepEqual(answers, ['Bearer T2', 'Bearer T2', 'Bearer T2']);
  t.is(urls.length, 1);
  t.is(urls[0].searchParams.get('account'), null, 'anonymous');
});

test('RegistryAuth renews a token near its expiry', async (t) => {
  let now = 1_000_000;
  const { fetch, urls } = recordingFetch({ status: 200, body: { token: 'T', expires_in: 60 } });
  const auth = new RegistryAuth({ registry: 'r', credentials: null, fetchToken: fetch, now: () => now });
  auth.accept(bearer);
  await auth.authorization(['repository:a:pull']);
  now += 45_000;
  await auth.authorization(['repository:a:pull']);
  t.is(urls.length, 1);
  now += 10_000;
  await auth.authorization(['repository:a:pull']);
  t.is(urls.length, 2);
});

test('RegistryAuth reports a refused password without the password', async (t) => {
  const { fetch } = recordingFetch({ status: 401, body: { details: 'incorrect username or password' } });
  const auth = new RegistryAuth({ registry: 'reg:5000', credentials: { username: 'u', password: 's3cret-pw' }, fetchToken: fetch });
  auth.accept(bearer);
  const err = await t.throwsAsync(auth.authorization(['repository:a:pull']));
  t.is(err?.message, 'unauthorized: incorrect username or password for reg:5000');
  t.is((err as { code?: string }).code, 'ERR_NBOX_AUTH');
});

test('RegistryAuth answers Basic challenges with credentials, and nothing without', async (t) => {
  const fetchToken: TokenFetch = async () => t.fail() as never;
  const withCredentials = new RegistryAuth({ registry: 'r', credentials: { username: 'u', password: 'p:x' }, fetchToken });
  t.deepEqual(withCredentials.accept('Basic realm="x"'), []);
  t.is(await withCredentials.authorization([]), `Basic ${Buffer.from('u:p:x').toString('base64')}`);
  const anonymous = new RegistryAuth({ registry: 'r', credentials: null, fetchToken });
  anonymous.accept('Basic realm="x"');
  t.is(await anonymous.authorization([]), undefined);
  t.is(anonymous.accept('Digest realm="x"'), undefined, 'an unknown scheme cannot be answered');
});
