// A layer validator, as go-containerregistry's validate.Layer: the diffID is
// the sha256 of the uncompressed tar and the size its length, a compressed blob
// has the digest and size claimed for it and unpacks to that same tar, and no
// path appears twice in the tar.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';

/** LayerUnderTest is a layer as the store gives it out (image/stored-layer's StoredLayer fits). */
export interface LayerUnderTest {
  diffId: string;
  size: number;
  uncompressed(): Promise<Readable>;
  /** A gzip blob of the layer and the digest and size claimed for it. */
  compressed?(): Promise<{ digest: string; size: number; path: string }>;
}

/** validateLayer returns what is wrong with the layer, one line each; [] when it is valid. */
export async function validateLayer(layer: LayerUnderTest): Promise<string[]> {
  const problems: string[] = [];
  const tar = await readAll(await layer.uncompressed());
  const diffId = sha256(tar);
  if (diffId !== layer.diffId) problems.push(`diffID ${layer.diffId}, but the uncompressed tar hashes to ${diffId}`);
  if (tar.length !== layer.size) problems.push(`size ${layer.size}, but the uncompressed tar has ${tar.length} bytes`);
  problems.push(...(await duplicatePaths(tar)).map((name) => `the tar holds ${JSON.stringify(name)} twice`));
  if (layer.compressed) {
    const blob = await layer.compressed();
    const bytes = await readAll(createReadStream(blob.path));
    if (sha256(bytes) !== blob.digest) problems.push(`compressed digest ${blob.digest}, but the blob hashes to ${sha256(bytes)}`);
    if (bytes.length !== blob.size) problems.push(`compressed size ${blob.size}, but the blob has ${bytes.length} bytes`);
    const unpacked = sha256(await readAll(Readable.from([bytes]).pipe(createGunzip())));
    if (unpacked !== layer.diffId) problems.push(`the compressed blob unpacks to ${unpacked}, not the diffID ${layer.diffId}`);
  }
  return problems;
}

// duplicatePaths lists the member names (as a tar reader resolves them: PAX
// and GNU long names, `./` and a trailing `/` dropped) that appear more than once.
async function duplicatePaths(tar: Buffer): Promise<string[]> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
      if (seen.has(name)) twice.add(name);
      seen.add(name);
      stream.on('end', next).resume();
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
  });
  reader.end(tar);
  await done;
  return [...twice];
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
