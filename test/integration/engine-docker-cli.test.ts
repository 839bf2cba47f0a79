// The docker CLI (28.x, where installed) against `nbox serve`: the steps
// engine.test.ts's run/exec/stop/logs pass does not take, each checked as
// Docker's daemon answers it.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { dirname, join } from 'node:path';

import { serveEngine } from '../../src/engine/server';
import { request } from '../helpers/engine-client';
import { fileScope, makeRootfs, optionalTest, rootTest, sharedTestStore, tarOf, writeContext } from '../helpers/env';
import { until } from '../helpers/detached';

const base = rootTest();
const scope = fileScope(base);
const store = sharedTestStore(base);
const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((path) => existsSync(path));
const test = optionalTest(base, DOCKER ? null : 'the docker CLI tests: no docker client on this machine');
let socket: string;

base.before(async () => {
  if (!DOCKER) return;
  socket = join(dirname(store.root), 'docker-cli.sock');
  const server = await serveEngine(store.nbox, { socket });
  scope.teardown(() => server.close());
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function docker(args: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dirname(store.root), ...options.env };
    const child = execFile(DOCKER as string, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** sh runs a shell line with the docker CLI pointed at the server (for redirections such as 2>err), in the test's temp dir. */
function sh(line: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', line], { cwd: dirname(store.root), env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dirname(store.root), DOCKER: DOCKER as string } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function httpGet(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    }).on('error', () => resolve(undefined));
  });
}

test('images: save then load, import a rootfs tar, list and tag', async (t) => {
  const dir = dirname(store.root);
  const archive = join(dir, 'bb.tar');
  t.is((await docker(['save', '-o', archive, 'bb'])).code, 0);
  t.is((await docker(['rmi', 'bb'])).code, 0);
  const loaded = await docker(['load', '-i', archive]);
  t.is(loaded.code, 0, loaded.stderr);
  t.regex(loaded.stdout, /^Loaded image: bb:latest$/m);
  const rootfs = await makeRootfs(join(dir, 'import'));
  const tar = join(dir, 'rootfs.tar');
  await new Promise<void>((resolve) => {
    const chunks: Buffer[] = [];
    tarOf(rootfs).on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => (writeFileSync(tar, Buffer.concat(chunks)), resolve()));
  });
  const imported = await docker(['import', '-c', 'CMD ["sh"]', tar, 'cli/imported:v1']);
  t.is(imported.code, 0, imported.stderr);
  t.regex(imported.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
  t.is((await docker(['tag', 'cli/imported:v1', 'cli/retagged'])).code, 0);
  const images = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n');
  t.true(['bb:latest', 'cli/imported:v1', 'cli/retagged:latest'].every((name) => images.includes(name)), images.join(' '));
  t.is((await docker(['run', '--rm', 'cli/retagged', 'echo', 'from-import'])).stdout, 'from-import\n');
  t.is((await docker(['rmi', 'cli/imported:v1', 'cli/retagged'])).code, 0);
});

test('run without --rm: its exit code, -u, logs with the streams apart, inspect, restart, kill', async (t) => {
  const ran = await docker(['run', '--name', 'cli-exit', '-u', '1000:50', 'bb', 'sh', '-c', 'id -u; id -g; echo to-err >&2; exit 7']);
  t.teardown(async () => void (await docker(['rm', '-f', 'cli-exit'])));
  t.deepEqual(ran, { code: 7, stdout: '1000\n50\n', stderr: 'to-err\n' });
  const apart = await sh('"$DOCKER" logs cli-exit >out 2>err; cat out; echo ---; cat err');
  t.is(apart.stdout, '1000\n50\n---\nto-err\n');
  const inspected = JSON.parse((await docker(['inspect', 'cli-exit'])).stdout) as Array<{ State: { ExitCode: number; Status: string }; Config: { User: string } }>;
  t.like(inspected[0], { State: { ExitCode: 7, Status: 'exited' }, Config: { User: '1000:50' } });
  t.is((await docker(['inspect', '-f', '{{.State.ExitCode}}', 'cli-exit'])).stdout, '7\n');

  const id = (await docker(['run', '-d', 'bb', 'sh', '-c', 'echo started; exec sleep 60'])).stdout.trim();
  t.teardown(async () => void (await docker(['rm', '-f', id])));
  const startedAt = (await docker(['inspect', '-f', '{{.State.StartedAt}}', id])).stdout;
  t.is((await docker(['restart', '-t', '0', id])).code, 0);
  t.not((await docker(['inspect', '-f', '{{.State.StartedAt}}', id])).stdout, startedAt);
  t.is((await docker(['inspect', '-f', '{{.State.Running}}', id])).stdout, 'true\n');
  t.is((await docker(['kill', id])).code, 0);
  t.is((await docker(['wait', id])).stdout, '137\n');
  const notRunning = await docker(['kill', id]);
  t.is(notRunning.code, 1);
  t.regex(notRunning.stderr, /is not running/);
});

test('exec -i -u -e -w, top, diff, cp both ways, rm -f of a running container', async (t) => {
  const id = (await docker(['run', '-d', 'bb', 'sh', '-c', 'mkdir /work && touch /work/made && exec sleep 60'])).stdout.trim();
  t.teardown(async () => void (await docker(['rm', '-f', id])));
  await until('the container to set up', async () => ((await docker(['exec', id, 'test', '-e', '/work/made'])).code === 0 ? true : undefined));
  const exec = await docker(['exec', '-i', '-u', 'app', '-e', 'WHO=exec', '-w', '/work', id, 'sh', '-c', 'cat; echo "$WHO $(id -un) $(pwd)"'], { input: 'piped\n' });
  t.deepEqual(exec, { code: 0, stdout: 'piped\nexec app /work\n', stderr: '' });

  const top = await docker(['top', id]);
  t.regex(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/m);
  t.regex(top.stdout, /sleep 60/);
  const diff = (await docker(['diff', id])).stdout.split('\n');
  t.true(diff.includes('A /work') && diff.includes('A /work/made'), diff.join(' '));

  const dir = await writeContext(t, { 'in.txt': 'into the container\n' });
  t.is((await docker(['cp', join(dir, 'in.txt'), `${id}:/work/in.txt`])).code, 0);
  t.is((await docker(['exec', id, 'cat', '/work/in.txt'])).stdout, 'into the container\n');
  t.is((await docker(['cp', `${id}:/work/in.txt`, join(dir, 'out.txt')])).code, 0);
  t.is(readFileSync(join(dir, 'out.txt'), 'utf8'), 'into the container\n');

  const busy = await docker(['rm', id]);
  t.not(busy.code, 0);
  t.regex(busy.stderr, /cannot remove container .*container is running: stop the container before removing or force remove/);
  t.is((await docker(['rm', '-f', id])).stdout, `${id}\n`);
  t.is((await docker(['inspect', id])).code, 1);
});

test('ports: -p 0:80 and --expose 80 -P reach busybox httpd through 127.0.0.1', async (t) => {
  const httpd = ['sh', '-c', 'mkdir /www && echo served > /www/index.html && exec httpd -f -h /www -p 80'];
  for (const flags of [['-p', '0:80'], ['--expose', '80', '-P']]) {
    const id = (await docker(['run', '-d', ...flags, 'bb', ...httpd])).stdout.trim();
    t.teardown(async () => void (await docker(['rm', '-f', id])));
    const port = Number(/:(\d+)$/m.exec((await docker(['port', id, '80'])).stdout)?.[1]);
    t.true(port > 0, flags.join(' '));
    t.is(await until('httpd', () => httpGet(port)), 'served\n', flags.join(' '));
  }
});

test('classic build (DOCKER_BUILDKIT=0) and a failing one: its exit code and message', async (t) => {
  const env = { DOCKER_BUILDKIT: '0' };
  const good = await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo built > /built\nCMD ["cat", "/built"]\n' });
  const built = await docker(['build', '-t', 'cli/built', good], { env });
  t.is(built.code, 0, built.stderr);
  t.regex(built.stdout, /^Step 2\/3 : RUN echo built > \/built$/m);
  t.regex(built.stdout, /^Successfully tagged cli\/built:latest$/m);
  t.is((await docker(['run', '--rm', 'cli/built'])).stdout, 'built\n');
  const bad = await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo failing; exit 3\n' });
  const failed = await docker(['build', '-t', 'cli/failed', bad], { env });
  t.is(failed.code, 1);
  t.regex(failed.stderr, /The command '\/bin\/sh -c echo failing; exit 3' returned a non-zero code: 3/);
  t.is((await docker(['image', 'inspect', 'cli/failed'])).code, 1);
});

test('system df and df -v list what the store holds', async (t) => {
  t.is((await docker(['volume', 'create', 'cli-vol'])).code, 0);
  t.teardown(async () => void (await docker(['volume', 'rm', '-f', 'cli-vol'])));
  const id = (await docker(['create', '-v', 'cli-vol:/data', 'bb', 'true'])).stdout.trim();
  t.teardown(async () => void (await docker(['rm', '-f', id])));
  const df = await docker(['system', 'df']);
  t.is(df.code, 0, df.stderr);
  t.regex(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/m);
  t.regex(df.stdout, /^Local Volumes\s+1\s+1\s/m);
  const verbose = await docker(['system', 'df', '-v']);
  t.is(verbose.code, 0, verbose.stderr);
  t.regex(verbose.stdout, /^bb\s+latest\s+[0-9a-f]{12}\s/m);
  t.regex(verbose.stdout, new RegExp(`^${id.slice(0, 12)}\\s+bb\\s+"true"\\s+1\\s+0B\\s+.*Created\\s`, 'm'));
  t.regex(verbose.stdout, /^cli-vol\s+1\s+0B$/m);
  // ps -s asks the list for sizes: the virtual one is the image's.
  const sized = await docker(['ps', '-a', '-s', '--filter', `id=${id}`, '--format', '{{.Size}}|{{.LocalVolumes}}|{{.Mounts}}|{{.Networks}}']);
  t.regex(sized.stdout, /^0B \(virtual [\d.]+MB\)\|1\|cli-vol\|bridge\n$/);
  // inspect --size asks with size=1: both sizes come, a 0 one too, as the daemon's pointers do.
  const inspected = await docker(['inspect', '--size', '-f', '{{.SizeRw}} {{.SizeRootFs}}', id]);
  t.regex(inspected.stdout, /^0 [1-9]\d*\n$/, inspected.stderr);
});

test('wait --condition next-exit through the API answers the exit after the next start', async (t) => {
  const id = (await docker(['create', 'bb', 'sh', '-c', 'exit 9'])).stdout.trim();
  t.teardown(async () => void (await docker(['rm', '-f', id])));
  const waited = request(socket, 'POST', `/v1.50/containers/${id}/wait?condition=next-exit`);
  t.is((await docker(['start', id])).code, 0);
  t.deepEqual(JSON.parse((await waited).body), { StatusCode: 9, Error: null });
});
