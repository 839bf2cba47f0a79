// Image verbs on a real store: import, images, tag, rmi, inspect, ps, rm.

import { cli, exitCodeOf, rootTest, sharedTestStore, spawnCli, tarOf } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

test('images lists Docker columns; tag adds a name to the same ID', async (t) => {
  t.is((await cli(store.root, ['tag', 'bb', 'example/tools:1.0'])).code, 0);
  const r = await cli(store.root, ['images']);
  t.is(r.code, 0, r.stderr);
  const [header, ...rows] = r.stdout.trim().split('\n');
  t.regex(header, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  const parsed = rows.map((row) => row.split(/\s{3,}/));
  const bb = parsed.find((row) => row[0] === 'bb')!;
  const tools = parsed.find((row) => row[0] === 'example/tools')!;
  t.is(bb[1], 'latest');
  t.is(tools[1], '1.0');
  t.is(bb[2], tools[2]);
  t.regex(bb[2], /^[0-9a-f]{12}$/);
  t.regex(bb[4], /^\d+(\.\d+)?MB$/);
  t.is((await cli(store.root, ['rmi', 'example/tools:1.0'])).stdout, 'Untagged: example/tools:1.0\n');
});

test('images REPOSITORY[:TAG] lists only the names that match, so rmi $(images -q REPO) removes only those', async (t) => {
  const other = await store.nbox.importImage(tarOf('/etc', ['hostname']), { tags: ['filtered/other:1'] });
  for (const tag of ['filtered/app:1', 'filtered/app:2']) t.is((await cli(store.root, ['tag', 'bb', tag])).code, 0);
  const rows = async (args: string[]) => {
    const r = await cli(store.root, args);
    t.is(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').slice(1).map((row) => row.split(/\s{3,}/).slice(0, 2).join(':'));
  };
  t.deepEqual((await rows(['images', 'filtered/app'])).sort(), ['filtered/app:1', 'filtered/app:2']);
  t.deepEqual(await rows(['images', 'filtered/app:2']), ['filtered/app:2']);
  t.deepEqual(await rows(['image', 'ls', 'docker.io/filtered/other']), ['filtered/other:1']);
  t.deepEqual(await rows(['images', 'filtered/none']), []);
  const quiet = await cli(store.root, ['images', '-q', 'filtered/other']);
  t.is(quiet.stdout, `${other.slice(7, 19)}\n`);
  t.is((await cli(store.root, ['rmi', other])).code, 0);
  for (const tag of ['filtered/app:1', 'filtered/app:2']) t.is((await cli(store.root, ['rmi', tag])).code, 0);
  t.is((await cli(store.root, ['inspect', 'bb'])).code, 0);
});

test('images --format and --filter, as the docker CLI: fields, table headers, json, a label filter', async (t) => {
  await store.nbox.importImage(tarOf('/etc', ['hostname']), { tags: ['formatted/one:1'], changes: ['LABEL tier=db'] });
  t.teardown(() => cli(store.root, ['rmi', 'formatted/one:1']));
  const plain = await cli(store.root, ['images', '--filter', 'label=tier=db', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}']);
  t.deepEqual([plain.code, plain.stderr], [0, '']);
  t.regex(plain.stdout, /^formatted\/one:1 \d+(\.\d+)?[kM]?B\n$/);
  const table = await cli(store.root, ['images', '-f', 'reference=formatted/*', '--format', 'table {{.Repository}}\t{{.ID}}']);
  t.regex(table.stdout, /^REPOSITORY\s+IMAGE ID\nformatted\/one\s+[0-9a-f]{12}\n$/);
  const json = await cli(store.root, ['images', '-f', 'label=tier', '--format', 'json']);
  t.like(JSON.parse(json.stdout), { Repository: 'formatted/one', Tag: '1', Digest: '<none>' });
  const bad = await cli(store.root, ['images', '-f', 'nope=1']);
  t.deepEqual([bad.code, bad.stdout, bad.stderr], [125, '', "nbox: invalid filter 'nope'\n"]);
});

test('import --change sets the config; inspect shows it in Docker shape', async (t) => {
  const viaPipe = await new Promise<string>((resolveOut) => {
    const child = spawnCli(store.root, ['import', '-c', 'ENV A=1', '-c', 'EXPOSE 8080', '-c', 'ENTRYPOINT ["/bin/app"]', '-', 'tiny:v1'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    tarOf('/etc', ['hostname']).pipe(child.stdin!);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => resolveOut(out));
  });
  t.regex(viaPipe, /^sha256:[0-9a-f]{64}\n$/);
  const inspect = JSON.parse((await cli(store.root, ['inspect', 'tiny:v1'])).stdout);
  t.is(inspect.length, 1);
  t.is(inspect[0].Id, viaPipe.trim());
  t.deepEqual(inspect[0].RepoTags, ['tiny:v1']);
  t.deepEqual(inspect[0].Config.Env, ['A=1']);
  t.deepEqual(inspect[0].Config.ExposedPorts, { '8080/tcp': {} });
  t.deepEqual(inspect[0].Config.Entrypoint, ['/bin/app']);
  t.is(inspect[0].Os, 'linux');
  t.is(inspect[0].RootFS.Layers.length, 1);
});

test('rmi refuses an image a container uses, unless forced', async (t) => {
  t.is((await cli(store.root, ['tag', 'bb', 'inuse:latest'])).code, 0);
  const imageId = JSON.parse((await cli(store.root, ['inspect', 'bb:latest'])).stdout)[0].Id as string;
  // Give the image one name only, so removing that name would delete it.
  const { Nbox } = await import('../../src/api');
  const nbox = await Nbox.open({ root: store.root });
  const soloId = await nbox.importImage(tarOf('/etc', ['hostname']), { tags: ['solo:latest'], changes: ['CMD ["x"]'] });
  t.not(soloId, imageId);
  const created = await cli(store.root, ['run', '--name', 'user-of-solo', 'solo', 'true']);
  t.is(created.code, 127);
  const refused = await cli(store.root, ['rmi', 'solo']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /^nbox: conflict: unable to remove repository reference "solo" \(must force\) - container [0-9a-f]{12} is using its referenced image/);
  t.is((await cli(store.root, ['inspect', 'solo'])).code, 0);
  const forced = await cli(store.root, ['rmi', '-f', 'solo']);
  t.is(forced.code, 0, forced.stderr);
  t.is(forced.stdout, 'Untagged: solo:latest\n');
  t.is((await cli(store.root, ['rm', 'user-of-solo'])).code, 0);
  t.is((await cli(store.root, ['rmi', 'inuse'])).stdout, 'Untagged: inuse:latest\n');
});

test('rmi by name deletes an image with no other name, and its layers', async (t) => {
  const id = await store.nbox.importImage(tarOf('/etc', ['hosts']), { tags: ['doomed:latest'] });
  const r = await cli(store.root, ['rmi', 'doomed']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, `Untagged: doomed:latest\nDeleted: ${id}\n`);
  t.is((await cli(store.root, ['inspect', id])).code, 1);
});

test('ps shows running and exited containers; rm refuses a running one unless -f', async (t) => {
  const child = spawnCli(store.root, ['run', '--name', 'long-runner', 'bb', 'sleep', '300'], {
    stdio: 'ignore',
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  for (;;) {
    const ps = await cli(store.root, ['ps']);
    if (ps.stdout.includes('long-runner')) {
      t.regex(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[0-9a-f]{12}\s+bb\s+"sleep 300"\s+.+\s+Up .+\s+long-runner\n$/);
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // Named as the daemon names it, with its slash, whatever ref was given.
  const refused = await cli(store.root, ['rm', (await cli(store.root, ['ps', '-q', '-f', 'name=long-runner'])).stdout.trim()]);
  t.is(refused.code, 1);
  t.is(refused.stderr, 'nbox: cannot remove container "/long-runner": container is running: stop the container before removing or force remove\n');
  const forced = await cli(store.root, ['rm', '-f', 'long-runner']);
  t.is(forced.code, 0, forced.stderr);
  const code = await exitCodeOf(child);
  t.is(code, 137);
  t.false((await cli(store.root, ['ps', '-a'])).stdout.includes('long-runner'));
});

test('export streams a container filesystem that import turns back into a runnable image', async (t) => {
  const made = await cli(store.root, ['run', '--name', 'to-export', 'bb', 'sh', '-c', 'echo kept > /root/new && rm /etc/group && rm -rf /tmp && mkdir /tmp']);
  t.is(made.code, 0, made.stderr);
  t.teardown(async () => {
    await cli(store.root, ['rm', 'to-export']);
  });
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const scratch = await mkdtemp(join(tmpdir(), 'nbox-export-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  const file = join(scratch, 'rootfs.tar');
  const exported = await cli(store.root, ['export', '-o', file, 'to-export']);
  t.is(exported.code, 0, exported.stderr);
  const { execFileSync } = await import('node:child_process');
  const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
  t.true(names.includes('root/new'));
  t.false(names.includes('etc/group'));
  t.false(names.some((n) => n.includes('.wh.')));
  const imported = await cli(store.root, ['import', '-c', 'CMD ["cat", "/root/new"]', file, 'reimported:latest']);
  t.is(imported.code, 0, imported.stderr);
  const ran = await cli(store.root, ['run', '--rm', 'reimported']);
  t.is(ran.stdout, 'kept\n');
});
