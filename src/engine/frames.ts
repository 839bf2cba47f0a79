// Docker's multiplexed stream: each chunk of a non-terminal stream goes out
// behind an 8-byte header (stream 0 stdin, 1 stdout, 2 stderr; big-endian size).

/** StreamType is the first byte of a frame's header. */
export type StreamType = 0 | 1 | 2;

/** frame wraps one chunk in its header. */
export function frame(stream: StreamType, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** MULTIPLEXED and RAW are the content types of a framed and of a terminal's stream. */
export const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
export const RAW = 'application/vnd.docker.raw-stream';
