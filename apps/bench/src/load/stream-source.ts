import { randomBytes } from "node:crypto";

/** Bytes of each piece a stream source yields: 1 MiB, the protocol's MAX_PAYLOAD. */
export const STREAM_PIECE_BYTES = 1024 * 1024;

/**
 * `total` bytes in pieces of STREAM_PIECE_BYTES, each a fresh buffer (a piece may still wait in a
 * write queue when the next is made, so none is reused), copied from one random piece with the
 * piece's index written into its first bytes: nothing repeats at the piece's period, and making a
 * piece costs a memcpy, not a random fill.
 */
export async function* streamSource(total: number): AsyncGenerator<Buffer> {
  const template = randomBytes(STREAM_PIECE_BYTES);
  for (let sent = 0, index = 0; sent < total; index++) {
    const size = Math.min(STREAM_PIECE_BYTES, total - sent);
    const piece = Buffer.allocUnsafe(size);
    template.copy(piece, 0, 0, size);
    if (size >= 4) piece.writeUInt32BE(index >>> 0, 0);
    sent += size;
    yield piece;
  }
}
