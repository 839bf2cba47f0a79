// Recording a tar's split (see split.ts) while the tar streams by to be unpacked.
import { BLOCK, headerPath, headerSize, headerType, isZeroBlock, longName, paxRecords, sparseExtensionContinues, sparseHeaderContinues } from './header';
import { encodeSplit, type Segment } from './split';

/** RecordedTar is what recording a tar stream yields: its split and the whiteout entries it held. */
export interface RecordedTar {
  /** Encoded (gzipped) segments: raw bytes and references to file contents by path; undefined when
   * the tar cannot be replayed from its unpacked files (a path holding content twice). */
  split: Buffer | undefined;
  /** Paths (relative, no leading `./` or `/`) of `.wh.` entries, for conversion to overlay whiteouts. */
  whiteouts: string[];
}

// Raw bytes are gathered chunk by chunk and joined once, when the split is made.
type Recorded = { kind: 'raw'; bytes: Buffer[] } | Extract<Segment, { kind: 'file' }>;

/** TarSplitRecorder follows a tar stream chunk by chunk and keeps every byte except regular files' contents. */
export class TarSplitRecorder {
  private readonly segments: Recorded[] = [];
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
    const segments = this.segments.map((segment): Segment => (segment.kind === 'raw' ? { kind: 'raw', bytes: Buffer.concat(segment.bytes) } : segment));
    return { split: this.replayable ? await encodeSplit(segments) : undefined, whiteouts: this.whiteouts };
  }

  private raw(bytes: Buffer): void {
    const last = this.segments[this.segments.length - 1];
    // Copied: the caller's chunk buffers may be reused.
    if (last?.kind === 'raw') last.bytes.push(Buffer.from(bytes));
    else this.segments.push({ kind: 'raw', bytes: [Buffer.from(bytes)] });
  }

  private onHeader(block: Buffer): void {
    this.raw(block);
    if (this.ended) return;
    if (this.sparseExtensions) {
      this.sparseExtensions = sparseExtensionContinues(block);
      if (!this.sparseExtensions) this.startContent();
      return;
    }
    // GNU tar stops at the first zero block: whatever follows is kept as it is, never read as entries.
    if (isZeroBlock(block)) {
      this.ended = true;
      return;
    }
    const type = headerType(block);
    const size = this.nextSize ?? headerSize(block);
    const path = normalizePath(this.nextPath ?? headerPath(block));
    // Extended headers name no entry of their own: GNU tar never writes them as files.
    const isMeta = type === 'x' || type === 'L' || type === 'K' || type === 'g';
    const sparse = this.nextSparse;
    if (!isMeta) {
      this.nextPath = undefined;
      this.nextSize = undefined;
      this.nextSparse = false;
    }
    const name = path.toString('utf8');
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (!isMeta && base.startsWith('.wh.')) this.whiteouts.push(name);
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
    if (isFileData && size > 0) this.segments.push({ kind: 'file', path, size });
    this.sparseExtensions = type === 'S' && sparseHeaderContinues(block);
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
    // A link name, or a global header's defaults: neither names the next entry.
    if (this.metaType === 'K' || this.metaType === 'g') return;
    if (this.metaType === 'L') {
      this.nextPath = longName(content);
      return;
    }
    for (const [key, value] of paxRecords(content)) {
      if (key === 'path') this.nextPath = value;
      else if (key === 'size') this.nextSize = Number(value.toString('latin1'));
      else if (key.startsWith('GNU.sparse.')) this.nextSparse = true;
    }
  }
}

function normalizePath(path: Buffer): Buffer {
  let text = path.toString('latin1');
  while (text.startsWith('./')) text = text.slice(2);
  text = text.replace(/^\/+/, '').replace(/\/+$/, '');
  return Buffer.from(text, 'latin1');
}
