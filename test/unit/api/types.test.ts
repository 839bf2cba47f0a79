// The published types (package.json "types": dist/src/api.d.ts) as a consumer
// compiles against them: every name a harness needs is exported and fits.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../../../..');

const CONSUMER = `
import { Nbox, Wait, WaitError, WaitTimeoutError, ExecError, type BuildEvent, type BuildOptions, type Container,
  type ContainerRunOptions, type FileCopy, type ForegroundRunOptions, type PortsOption, type RunningContainer,
  type WaitStrategy } from ${JSON.stringify(resolve(repo, 'dist/src/api'))};

export async function harness(nbox: Nbox): Promise<string> {
  const events: BuildEvent[] = [];
  const build: BuildOptions = { dockerfile: 'FROM busybox\\n', onProgress: (event) => events.push(event) };
  await nbox.build(build);
  const ports: PortsOption = { 80: 0, '53/udp': 5353 };
  const files: FileCopy[] = [{ target: '/a', content: 'x' }, { target: '/b', source: '/etc/hosts', mode: 0o600 }];
  const ready: WaitStrategy[] = [Wait.forLog(/up/, { times: 1 }), Wait.forPort(80), Wait.forHttp('/', { port: 80, status: 204 }), Wait.forHealthcheck(), Wait.forExec(['true'])];
  const options: ContainerRunOptions = { cmd: ['httpd'], env: ['A=1'], user: 'app', workdir: '/', ports, volumes: [], network: 'bridge', files, labels: { a: 'b' }, wait: ready, deadline: 5000 };
  await using c: Container = await nbox.run('busybox', options);
  const port: number = await c.port(80);
  const ip: string = await c.ip();
  const data: Buffer = await c.readFile('/a');
  await c.writeFile('/c', data, { mode: 0o644 });
  const result = await c.exec(['true'], { reject: true }).catch((err: unknown) => (err instanceof ExecError ? err.exitCode : -1));
  const foreground: ForegroundRunOptions = { cmd: ['true'], stdio: 'ignore' };
  const child: RunningContainer = await nbox.run('busybox', foreground);
  await child.exited;
  const failed = (err: unknown) => err instanceof WaitTimeoutError || err instanceof WaitError;
  return \`\${c.host}:\${port} \${ip} \${String(result)} \${failed(null)}\`;
}
`;

test('a consumer program compiles against the published .d.ts', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-types-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
  const r = spawnSync(resolve(repo, 'node_modules/.bin/tsc'), [
    '--noEmit', '--strict', '--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node', '--lib', 'ES2022,ESNext.Disposable,DOM',
    '--types', 'node', '--typeRoots', resolve(repo, 'node_modules/@types'), '--skipLibCheck', join(dir, 'consumer.ts'),
  ], { encoding: 'utf8' });
  t.is(r.status, 0, r.stdout + r.stderr);
});
