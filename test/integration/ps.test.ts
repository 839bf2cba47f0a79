// `nbox ps`: filters, -n/-l and --format, on containers that ran here.
import { humanSize } from '../../src/cli/format';
import { cli, rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

// Three stopped containers, oldest first: exit codes 0, 3 and 0, one labelled.
test.before(async () => {
  for (const [name, code, label] of [['first', 0, 'tier=db'], ['second', 3, 'tier=web'], ['third', 0, '']] as const) {
    const args = ['run', '--name', name, ...(label ? ['--label', label] : []), 'bb', 'sh', '-c', `exit ${code}`];
    const r = await cli(store.root, args);
    if (r.code !== code) throw new Error(`${name}: ${r.stderr}`);
  }
});

async function ps(args: string[]): Promise<string[]> {
  const r = await cli(store.root, ['ps', ...args]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('without -a only running containers are listed; a status filter looks at all', async (t) => {
  t.deepEqual(await ps(['--format', '{{.Names}}']), []);
  t.deepEqual(await ps(['--filter', 'status=exited', '--format', '{{.Names}}']), ['third', 'second', 'first']);
  t.deepEqual(await ps(['--filter', 'status=running', '--format', '{{.Names}}']), []);
});

test('filters: exited code, name as a pattern, label with and without a value; one key ORs but labels, two keys AND', async (t) => {
  t.deepEqual(await ps(['-a', '-f', 'exited=3', '--format', '{{.Names}}']), ['second']);
  t.deepEqual(await ps(['-a', '-f', 'name=^th', '--format', '{{.Names}}']), ['third']);
  t.deepEqual(await ps(['-a', '-f', 'label=tier', '--format', '{{.Names}}']), ['second', 'first']);
  t.deepEqual(await ps(['-a', '-f', 'label=tier=db', '--format', '{{.Names}}']), ['first']);
  // As Docker's: every label named must be there.
  t.deepEqual(await ps(['-a', '-f', 'label=tier', '-f', 'label=tier=db', '--format', '{{.Names}}']), ['first']);
  t.deepEqual(await ps(['-a', '-f', 'label=tier=db', '-f', 'label=tier=web', '--format', '{{.Names}}']), []);
  t.deepEqual(await ps(['-a', '-f', 'name=first', '-f', 'name=third', '--format', '{{.Names}}']), ['third', 'first']);
  t.deepEqual(await ps(['-a', '-f', 'label=tier', '-f', 'exited=0', '--format', '{{.Names}}']), ['first']);
  t.deepEqual(await ps(['-a', '-f', 'ancestor=bb', '-q']).then((ids) => ids.length), 3);
  t.deepEqual(await ps(['-a', '-f', 'ancestor=nosuchimage', '-q']), []);
  t.deepEqual(await ps(['-a', '-f', 'before=second', '--format', '{{.Names}}']), ['first']);
  t.deepEqual(await ps(['-a', '-f', 'since=second', '--format', '{{.Names}}']), ['third']);
  const unknown = await cli(store.root, ['ps', '-a', '-f', 'since=ghost']);
  t.deepEqual([unknown.code, unknown.stderr], [1, 'nbox: No such container: ghost\n']);
});

test('-n and -l show the newest containers, stopped ones included', async (t) => {
  t.deepEqual(await ps(['-n', '2', '--format', '{{.Names}}']), ['third', 'second']);
  t.deepEqual(await ps(['-l', '--format', '{{.Names}} {{.Status}}']).then((lines) => lines.map((l) => l.replace(/\d+ seconds?|Less than a second/, 'N'))), ['third Exited (0) N ago']);
});

test('--format: table with Docker headers, json lines, {{json .Labels}}', async (t) => {
  const lines = await ps(['-a', '--format', 'table {{.Names}}\\t{{.State}}']);
  t.deepEqual(lines.map((l) => l.split(/\s{3,}/)), [['NAMES', 'STATE'], ['third', 'exited'], ['second', 'exited'], ['first', 'exited']]);
  const json = (await ps(['-l', '--format', 'json'])).map((l) => JSON.parse(l) as Record<string, string>);
  t.like(json[0], { Names: 'third', State: 'exited', Image: 'bb', Command: '"sh -c \'exit 0\'"', Networks: 'bridge' });
  t.deepEqual(await ps(['-a', '-f', 'name=first', '--format', '{{json .Labels}}']), ['"tier=db"']);
});

test('a bad filter or template field is one line and exit 1 or 125, as Docker', async (t) => {
  const badKey = await cli(store.root, ['ps', '-f', 'colour=red']);
  t.deepEqual([badKey.code, badKey.stderr], [125, "nbox: invalid filter 'colour'\n"]);
  const badStatus = await cli(store.root, ['ps', '-f', 'status=sleepy']);
  t.deepEqual([badStatus.code, badStatus.stderr], [125, "nbox: invalid filter 'status=sleepy': invalid value for state (sleepy): must be one of created, running, paused, restarting, removing, exited, dead\n"]);
  const badField = await cli(store.root, ['ps', '--format', '{{.Colour}}']);
  t.is(badField.code, 125);
  t.regex(badField.stderr, /^nbox: template parsing error: .*can't evaluate field Colour\n$/);
});

test('rename: the container answers to its new name only; a taken or invalid name changes nothing', async (t) => {
  const renamed = await cli(store.root, ['rename', 'first', 'primary']);
  t.deepEqual([renamed.code, renamed.stdout, renamed.stderr], [0, '', '']);
  t.deepEqual(await ps(['-a', '-f', 'label=tier=db', '--format', '{{.Names}}']), ['primary']);
  t.is((await cli(store.root, ['inspect', 'first'])).code, 1);
  const taken = await cli(store.root, ['rename', 'primary', 'second']);
  t.is(taken.code, 1);
  t.regex(taken.stderr, /^nbox: Conflict\. The container name "\/second" is already in use by container "[0-9a-f]{64}"/);
  const same = await cli(store.root, ['rename', 'primary', 'primary']);
  t.deepEqual([same.code, same.stderr], [125, 'nbox: Renaming a container with the same name as its current name\n']);
  const invalid = await cli(store.root, ['rename', 'primary', 'no good']);
  t.is(invalid.code, 125);
  t.deepEqual(await ps(['-a', '-f', 'label=tier=db', '--format', '{{.Names}}']), ['primary']);
  t.is((await cli(store.root, ['rm', 'primary'])).code, 0);
  t.is((await cli(store.root, ['run', '--name', 'primary', 'bb', 'true'])).code, 0, 'the name is free again once its container is removed');
});

test('inspect -f prints each object through the template; a missing one is an error line, exit 1', async (t) => {
  const r = await cli(store.root, ['inspect', '-f', '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{json .State.Running}}', 'second', 'third']);
  t.deepEqual([r.code, r.stdout], [0, '/second exited 3 false\n/third exited 0 false\n']);
  // bb:latest, not bb: a container's random ID may start with bb, and inspect looks at containers first, as Docker's.
  const image = await cli(store.root, ['inspect', '--format', '{{json .Config.Cmd}}', 'bb:latest']);
  t.deepEqual([image.code, image.stdout], [0, '["sh"]\n']);
  const missing = await cli(store.root, ['inspect', '-f', '{{.Name}}', 'third', 'ghost']);
  t.deepEqual([missing.code, missing.stdout, missing.stderr], [1, '/third\n', 'nbox: No such object: ghost\n']);
});

test('-s: SIZE is what the container wrote, virtual adds its image; a format showing .Size asks for sizes', async (t) => {
  const written = await cli(store.root, ['run', '--name', 'sized', '-v', 'sized-vol:/data', 'bb', 'sh', '-c', 'head -c 4096 /dev/zero > /written']);
  t.is(written.code, 0, written.stderr);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', '-v', 'sized'])));
  const virtual = humanSize((await store.nbox.image('bb')).size + 4096);
  const lines = await ps(['-a', '-s', '-f', 'name=sized']);
  t.deepEqual(lines.map((line) => line.split(/\s{3,}/).slice(-2)), [['NAMES', 'SIZE'], ['sized', `4.1kB (virtual ${virtual})`]]);
  t.deepEqual(await ps(['-a', '-f', 'name=sized', '--format', '{{.Names}} {{.Size}}']), [`sized 4.1kB (virtual ${virtual})`]);
  t.deepEqual(await ps(['-a', '-f', 'name=sized', '--size=false', '--format', '{{.Size}}']), ['0B']);
  const [json] = (await ps(['-a', '-f', 'name=sized', '--format', 'json'])).map((line) => JSON.parse(line) as Record<string, string>);
  t.like(json, { Size: '0B', LocalVolumes: '1', Mounts: 'sized-vol', Networks: 'bridge' });
  const table = await ps(['-a', '-f', 'name=sized', '--format', 'table']);
  t.deepEqual(table[0].split(/\s{3,}/), ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);
  // inspect --size adds both sizes, in bytes; a plain inspect leaves them out.
  const inspected = await cli(store.root, ['inspect', '--size', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'sized']);
  t.is(inspected.stdout, `4096 ${(await store.nbox.image('bb')).size + 4096}\n`, inspected.stderr);
  const plain = JSON.parse((await cli(store.root, ['inspect', 'sized'])).stdout) as Array<Record<string, unknown>>;
  t.false('SizeRw' in plain[0] || 'SizeRootFs' in plain[0]);
});
