// Tar-split: what it takes to give back a layer tar byte for byte after it
// was unpacked. A pulled or loaded layer is identified by the sha256 of the
// exact tar it came in (its diffID); our own tar writer would make different
// bytes (other header fields, order, padding), so push and save replay the
// original headers and take file contents from the unpacked layer directory,
// as containers/storage and Docker do. Only the non-content bytes are kept.
// This file is the split's encoding: gzipped segments, each raw bytes or a
// reference to a file's content by path and size.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

// Off the event loop: a layer of many files has a split of tens of MB.
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const RAW = 1;
const FILE = 2;

/** Segment is a piece of the tar: bytes kept as they were, or a regular file's content, read from the layer. */
export type Segment = { kind: 'raw'; bytes: Buffer } | { kind: 'file'; path: Buffer; size: number };

/** encodeSplit packs segments into a split. */
export async function encodeSplit(segments: Segment[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const segment of segments) {
    if (segment.kind === 'raw') {
      const head = Buffer.alloc(5);
      head[0] = RAW;
      head.writeUInt32LE(segment.bytes.length, 1);
      parts.push(head, segment.bytes);
    } else {
      const head = Buffer.alloc(13);
      head[0] = FILE;
      head.writeBigUInt64LE(BigInt(segment.size), 1);
      head.writeUInt32LE(segment.path.length, 9);
      parts.push(head, segment.path);
    }
  }
  return gzipAsync(Buffer.concat(parts), { level: 1 });
}

/** decodeSplit yields a split's segments in order; undefined for a corrupt one. */
export async function* decodeSplit(split: Buffer): AsyncGenerator<Segment | undefined> {
  const data = await gunzipAsync(split);
  for (let offset = 0; offset < data.length; ) {
    const kind = data[offset];
    if (kind === RAW && offset + 5 <= data.length) {
      const length = data.readUInt32LE(offset + 1);
      yield { kind: 'raw', bytes: data.subarray(offset + 5, offset + 5 + length) };
      offset += 5 + length;
    } else if (kind === FILE && offset + 13 <= data.length) {
      const size = Number(data.readBigUInt64LE(offset + 1));
      const pathLength = data.readUInt32LE(offset + 9);
      yield { kind: 'file', path: data.subarray(offset + 13, offset + 13 + pathLength), size };
      offset += 13 + pathLength;
    } else {
      yield undefined;
      return;
    }
  }
}
