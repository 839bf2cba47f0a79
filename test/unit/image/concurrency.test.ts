import test from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Store } from '../../../src/image/store';
import { tempDir } from './helpers';

const addTags = path.join(__dirname, 'fixtures', 'add-tags.js');

test('two processes adding 20 tags each lose no update', async (t) => {
  const root = path.join(await tempDir(t), 'root');
  await Store.open(root);
  await Promise.all(['one', 'two'].map((repository) => promisify(execFile)(process.execPath, [addTags, root, repository, '20'])));
  const store = await Store.open(root);
  const tags = (await store.images.list()).flatMap((image) => image.tags);
  t.is(tags.length, 40);
  for (let n = 0; n < 20; n++) t.true(tags.includes(`one:${n}`) && tags.includes(`two:${n}`), String(n));
});
