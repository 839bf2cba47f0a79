// Tar blocks written by hand, as a hostile or unfinished archive has them: what tar-stream will not write
// (an extended header with a name of our choosing, a header whose content never comes).

/** tarBlock is a ustar header block for name (type, size), checksum set. */
export function tarBlock(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 100), 0, 'latin1');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar\x0000', 257, 'latin1');
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** tarMember is a header and its content, padded to the block size. */
export function tarMember(name: string, data: Buffer, type: string): Buffer {
  return Buffer.concat([tarBlock(name, data.length, type), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
