import test from 'ava';
import { readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

import { ContainerRegistry } from '../../../src/runtime/container-registry';
import type { ContainerConfig } from '../../../src/runtime/container-record';
import { LEFT, NAME_ATTEMPTS, RIGHT, randomName } from '../../../src/runtime/names';
import { StoreRoot } from '../../../src/store/root';
import { tempDir } from '../image/helpers';
import { record } from './records';

// picks is a random source that answers the given indexes in turn, then 0.
function picks(...indexes: number[]): (n: number) => number {
  return (n) => {
    const index = indexes.shift() ?? 0;
    if (index >= n) throw new Error(`index ${index} out of ${n}`);
    return index;
  };
}

test("generated names are Docker's left_right, from the lists, with a digit only on a retry", (t) => {
  t.true(LEFT.length > 50 && RIGHT.length > 100);
  for (let i = 0; i < 500; i++) {
    const retry = i % 2;
    const name = randomName(retry);
    t.regex(name, retry ? /^[a-z]+_[a-z]+\d$/ : /^[a-z]+_[a-z]+$/);
    const [left, right] = name.replace(/\d$/, '').split('_');
    t.true(LEFT.includes(left) && RIGHT.includes(right), name);
  }
  t.is(randomName(0, picks(LEFT.indexOf('merry'), RIGHT.indexOf('turing'))), 'merry_turing');
  t.is(randomName(2, picks(LEFT.indexOf('merry'), RIGHT.indexOf('turing'), 7)), 'merry_turing7');
});

async function registry(t: Parameters<typeof tempDir>[0]): Promise<ContainerRegistry> {
  return new ContainerRegistry(await StoreRoot.open(join(await tempDir(t), 'root')));
}

const FILES = { hosts: '', resolvConf: '', hostname: 'h\n' };
const configOf = (id: string, name: string): ContainerConfig => ({ ...record().config, id: id.repeat(64), name });

test('a generated name that is taken gives way to the next one, and the record on disk says which', async (t) => {
  const containers = await registry(t);
  await containers.create(configOf('a', 'happy_hopper'), FILES);
  const tried: number[] = [];
  const created = await containers.create(configOf('b', 'happy_hopper'), FILES, undefined, (retry) => (tried.push(retry), `happy_hopper${retry}`));
  t.deepEqual(tried, [1]);
  t.is(created.config.name, 'happy_hopper1');
  t.is(JSON.parse(readFileSync(join(created.dir, 'config.json'), 'utf8')).name, 'happy_hopper1');
  t.is((await containers.resolve('happy_hopper1')).config.id, 'b'.repeat(64));
});

test('after every generated name is taken, the container is named by its short ID; a given name is not retried', async (t) => {
  const containers = await registry(t);
  await containers.create(configOf('a', 'taken'), FILES);
  let retries = 0;
  const created = await containers.create(configOf('c', 'taken'), FILES, undefined, () => (retries++, 'taken'));
  t.deepEqual([retries, created.config.name], [NAME_ATTEMPTS - 1, 'c'.repeat(12)]);
  await t.throwsAsync(containers.create(configOf('d', 'taken'), FILES), { message: /^Conflict\. The container name "\/taken" is already in use/ });
  t.deepEqual((await containers.list()).map((c) => c.config.name).sort(), ['c'.repeat(12), 'taken']);
});

test("a name's link holds its ID short enough for the inode (no block to free on rm); a link an older nbox wrote, the ID in hex, still names it", async (t) => {
  const containers = await registry(t);
  const made = await containers.create(configOf('e', 'web'), FILES);
  const link = join(made.dir, '..', '..', 'names', 'web');
  t.true(readlinkSync(link).length < 60);
  t.is((await containers.resolve('web')).config.id, 'e'.repeat(64));
  await t.throwsAsync(containers.create(configOf('f', 'web'), FILES), { message: new RegExp(`already in use by container "${'e'.repeat(64)}"`) });
  rmSync(link);
  symlinkSync('e'.repeat(64), link);
  t.is((await containers.resolve('web')).config.id, 'e'.repeat(64));
  await containers.remove(made);
  t.throws(() => readlinkSync(link));
});
