// Reading tar headers (ustar, GNU and PAX), the one parser of header fields:
// tar-split follows a stream with it, ADD and build contexts tell a tar by it.

/** BLOCK is tar's unit: headers are one block, contents are padded to whole blocks. */
export const BLOCK = 512;

/** isZeroBlock tells an end-of-archive block: GNU tar stops reading at the first one. */
export function isZeroBlock(block: Buffer): boolean {
  return block.every((byte) => byte === 0);
}

/** isTarHeader tells whether a block is a valid tar header, by its checksum as Go's archive/tar checks it. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let at = 0; at < BLOCK; at++) {
    const byte = at >= 148 && at < 156 ? 0x20 : block[at];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const expected = parseInt(field, 8);
  return expected === unsigned || expected === signed;
}

/** headerType reads the typeflag: '0' regular, 'x' PAX, 'L'/'K' GNU long name/link, 'S' old GNU sparse…
 * An old NUL typeflag means a regular file. */
export function headerType(block: Buffer): string {
  return String.fromCharCode(block[156] || 0x30);
}

/** headerPath reads the name of a ustar/GNU header: POSIX ustar splits long names into prefix and name. */
export function headerPath(block: Buffer): Buffer {
  const name = cString(block.subarray(0, 100));
  const isPosix = block.toString('latin1', 257, 263) === 'ustar\0';
  const prefix = isPosix ? cString(block.subarray(345, 500)) : Buffer.alloc(0);
  return prefix.length > 0 ? Buffer.concat([prefix, Buffer.from('/'), name]) : name;
}

/** headerSize reads the size field: octal text, or GNU's base-256 for sizes of 8 GiB and more. */
export function headerSize(block: Buffer): number {
  const field = block.subarray(124, 136);
  if (field[0] & 0x80) {
    let size = 0;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i];
    return size;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/g, '').trim();
  // A malformed size makes GNU tar fail the unpack anyway; 0 keeps a reader going until then.
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : 0;
}

/** sparseHeaderContinues tells whether an old GNU sparse header ('S') is followed by extension blocks. */
export function sparseHeaderContinues(block: Buffer): boolean {
  return block[482] !== 0;
}

/** sparseExtensionContinues tells whether an old GNU sparse extension block is followed by another. */
export function sparseExtensionContinues(block: Buffer): boolean {
  return block[504] !== 0;
}

/** paxRecords splits PAX extended header content: "LEN key=value\n" records. */
export function paxRecords(content: Buffer): Array<[string, Buffer]> {
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

/** longName reads a GNU 'L' or 'K' record's content: a NUL-terminated name. */
export function longName(content: Buffer): Buffer {
  return cString(content);
}

function cString(bytes: Buffer): Buffer {
  const end = bytes.indexOf(0);
  return end === -1 ? bytes : bytes.subarray(0, end);
}
