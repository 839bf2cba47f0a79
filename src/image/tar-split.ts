// Tar-split: what it takes to give back a layer tar byte for byte after it
// was unpacked. A pulled or loaded layer is identified by the sha256 of the
// exact tar it came in (its diffID); our own tar writer would make different
// bytes (other header fields, order, padding), so push and save replay the
// original headers and take file contents from the unpacked layer directory,
// as containers/storage and Docker do. Only the non-content bytes are kept.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

// Off the event loop: a layer of many files has a split of tens of MB.
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
import { NboxError } from '../errors';

const BLOCK = 512;
const RAW = 1;
const FILE = 2;
const READ_CHUNK = 1 << 20;

/** RecordedTar is what recording a tar stream yields: its split and the whiteout entries it held. */
export interface RecordedTar {
  /** Encoded (gzipped) segments: raw bytes and references to file contents by path; undefined when
   * the tar cannot be replayed from its unpacked files (a path holding content twice). */
  split: Buffer | undefined;
  /** Paths (relative, no leading `./` or `/`) of `.wh.` entries, for conversion to overlay whiteouts. */
  whiteouts: string[];
}

type Segment = { kind: typeof RAW; bytes: Buffer[] } | { kind: typeof FILE; path: Buffer; size: number };

/** TarSplitRecorder follows a tar stream chunk by chunk and keeps every byte except regular files' contents. */
export class TarSplitRecorder {
  private readonly segments: Segment[] = [];
  private readonly whiteouts: string[] = [];
  private header = Buffer.alloc(0);
  // Bytes of the current entry's content still to come, and whether they are kept.
  private contentLeft = 0;
  private pendingSize = 0;
  private keepContent = false;
  private paddingLeft = 0;
  // A PAX extended header or GNU long name is kept raw but also read: it names the next entry.
  private metaContent: Buffer[] | undefined;
  private metaType = '';
  private ended = false;
  private replayable = true;
  private readonly filePaths = new Set<string>();
  private nextPath: Buffer | undefined;
  private nextSize: number | undefined;
  // PAX GNU.sparse.* records: the next entry's content is a sparse map and data runs, not the file.
  private nextSparse = false;
  // An old GNU sparse header ('S') with more regions than it holds is followed by extension
  // blocks before its data; they are headers, not content, and must not be read as entries.
  private sparseExtensions = false;

  /** feed takes the next chunk of the uncompressed tar. */
  feed(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.contentLeft > 0) {
        const take = Math.min(this.contentLeft, chunk.length - offset);
        const piece = chunk.subarray(offset, offset + take);
        if (this.keepContent) this.raw(piece);
        if (this.metaContent) this.metaContent.push(Buffer.from(piece));
        this.contentLeft -= take;
        offset += take;
        if (this.contentLeft === 0) this.endContent();
      } else if (this.paddingLeft > 0) {
        const take = Math.min(this.paddingLeft, chunk.length - offset);
        this.raw(chunk.subarray(offset, offset + take));
        this.paddingLeft -= take;
        offset += take;
      } else {
        const take = Math.min(BLOCK - this.header.length, chunk.length - offset);
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + take)]);
        offset += take;
        if (this.header.length === BLOCK) {
          const block = this.header;
          this.header = Buffer.alloc(0);
          this.onHeader(block);
        }
      }
    }
  }

  /** finish returns the split; the stream must have ended. */
  async finish(): Promise<RecordedTar> {
    if (this.header.length > 0) this.raw(this.header);
    const parts: Buffer[] = [];
    for (const segment of this.segments) {
      if (segment.kind === RAW) {
        const bytes = Buffer.concat(segment.bytes);
        const head = Buffer.alloc(5);
        head[0] = RAW;
        head.writeUInt32LE(bytes.length, 1);
        parts.push(head, bytes);
      } else {
        const head = Buffer.alloc(13);
        head[0] = FILE;
        head.writeBigUInt64LE(BigInt(segment.size), 1);
        head.writeUInt32LE(segment.path.length, 9);
        parts.push(head, segment.path);
      }
    }
    return { split: this.replayable ? await gzipAsync(Buffer.concat(parts), { level: 1 }) : undefined, whiteouts: this.whiteouts };
  }

  private raw(bytes: Buffer): void {
    const last = this.segments[this.segments.length - 1];
    // Copied: the caller's chunk buffers may be reused.
    if (last?.kind === RAW) last.bytes.push(Buffer.from(bytes));
    else this.segments.push({ kind: RAW, bytes: [Buffer.from(bytes)] });
  }

  private onHeader(block: Buffer): void {
    this.raw(block);
    if (this.ended) return;
    if (this.sparseExtensions) {
      this.sparseExtensions = block[504] !== 0;
      if (!this.sparseExtensions) this.startContent();
      return;
    }
    // GNU tar stops at the first zero block: whatever follows is kept as it is, never read as entries.
    if (block.every((byte) => byte === 0)) {
      this.ended = true;
      return;
    }
    const type = String.fromCharCode(block[156] || 0x30);
    const size = this.nextSize ?? headerSize(block);
    const path = normalizePath(this.nextPath ?? headerPath(block));
    const isMeta = type === 'x' || type === 'L' || type === 'K';
    const sparse = this.nextSparse;
    if (!isMeta) {
      this.nextPath = undefined;
      this.nextSize = undefined;
      this.nextSparse = false;
    }
    const name = path.toString('utf8');
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base.startsWith('.wh.')) this.whiteouts.push(name);
    const isFileData = (type === '0' || type === '7') && !base.startsWith('.wh.') && !sparse;
    // A path given twice keeps only its last content on disk: the earlier entry's bytes cannot be replayed.
    if (isFileData && size > 0) {
      if (this.filePaths.has(name)) this.replayable = false;
      this.filePaths.add(name);
    }
    this.pendingSize = size;
    this.keepContent = !isFileData;
    this.metaContent = isMeta ? [] : undefined;
    this.metaType = type;
    if (isFileData && size > 0) this.segments.push({ kind: FILE, path, size });
    this.sparseExtensions = type === 'S' && block[482] !== 0;
    if (!this.sparseExtensions) this.startContent();
  }

  private startContent(): void {
    this.contentLeft = this.pendingSize;
    this.paddingLeft = (BLOCK - (this.pendingSize % BLOCK)) % BLOCK;
    if (this.pendingSize === 0) this.endContent();
  }

  private endContent(): void {
    if (!this.metaContent) return;
    const content = Buffer.concat(this.metaContent);
    this.metaContent = undefined;
    if (this.metaType === 'K') return;
    if (this.metaType === 'L') {
      const end = content.indexOf(0);
      this.nextPath = end === -1 ? content : content.subarray(0, end);
      return;
    }
    for (const [key, value] of paxRecords(content)) {
      if (key === 'path') this.nextPath = value;
      else if (key === 'size') this.nextSize = Number(value.toString('latin1'));
      else if (key.startsWith('GNU.sparse.')) this.nextSparse = true;
    }
  }
}

/** replayTar yields the original tar again from its split and the directory it was unpacked into;
 * it fails if the result does not hash to expectedDiffId (a file changed, or a path repeated in the tar). */
export async function* replayTar(split: Buffer, dir: string, expectedDiffId: string): AsyncGenerator<Buffer> {
  const data = await gunzipAsync(split);
  const hash = createHash('sha256');
  const dirPrefix = Buffer.from(`${dir}/`);
  for (let offset = 0; offset < data.length; ) {
    const kind = data[offset];
    if (kind === RAW) {
      const length = data.readUInt32LE(offset + 1);
      const bytes = data.subarray(offset + 5, offset + 5 + length);
      offset += 5 + length;
      hash.update(bytes);
      yield bytes;
    } else if (kind === FILE) {
      const size = Number(data.readBigUInt64LE(offset + 1));
      const pathLength = data.readUInt32LE(offset + 9);
      const path = Buffer.concat([dirPrefix, data.subarray(offset + 13, offset + 13 + pathLength)]);
      offset += 13 + pathLength;
      for await (const chunk of fileContent(path, size)) {
        hash.update(chunk);
        yield chunk;
      }
    } else {
      throw new NboxError('ERR_NBOX_STORE', `corrupt tar-split for layer ${expectedDiffId}`);
    }
  }
  const diffId = `sha256:${hash.digest('hex')}`;
  if (diffId !== expectedDiffId) throw new NboxError('ERR_NBOX_STORE', `layer ${expectedDiffId} no longer matches its digest (its files changed on disk)`);
}

async function* fileContent(path: Buffer, size: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    for (let position = 0; position < size; ) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new NboxError('ERR_NBOX_STORE', `layer file ${path.toString()} is shorter than its tar entry`);
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

// headerPath reads the name of a ustar/GNU header: POSIX ustar splits long names into prefix and name.
function headerPath(block: Buffer): Buffer {
  const name = cString(block.subarray(0, 100));
  const isPosix = block.toString('latin1', 257, 263) === 'ustar\0';
  const prefix = isPosix ? cString(block.subarray(345, 500)) : Buffer.alloc(0);
  return prefix.length > 0 ? Buffer.concat([prefix, Buffer.from('/'), name]) : name;
}

// headerSize reads the size field: octal text, or GNU's base-256 for sizes of 8 GiB and more.
function headerSize(block: Buffer): number {
  const field = block.subarray(124, 136);
  if (field[0] & 0x80) {
    let size = 0;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i];
    return size;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/g, '').trim();
  // A malformed size makes GNU tar fail the unpack anyway; 0 keeps the recorder going until then.
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : 0;
}

function cString(bytes: Buffer): Buffer {
  const end = bytes.indexOf(0);
  return end === -1 ? bytes : bytes.subarray(0, end);
}

function normalizePath(path: Buffer): Buffer {
  let text = path.toString('latin1');
  while (text.startsWith('./')) text = text.slice(2);
  text = text.replace(/^\/+/, '').replace(/\/+$/, '');
  return Buffer.from(text, 'latin1');
}

// paxRecords splits PAX extended header content: "LEN key=value\n" records.
function paxRecords(content: Buffer): Array<[string, Buffer]> {
  const records: Array<[string, Buffer]> = [];
  for (let offset = 0; offset < content.length; ) {
    const space = content.indexOf(0x20, offset);
    const length = parseInt(content.toString('latin1', offset, space), 10);
    if (space === -1 || !(length > 0)) break;
    const record = content.subarray(space + 1, offset + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals !== -1) records.push([record.toString('utf8', 0, equals), record.subarray(equals + 1)]);
    offset += length;
  }
  return records;
}
