/** Bytes of the big-endian length in front of every message the raw peers exchange. */
export const LENGTH_PREFIX_BYTES = 4;

/** Largest body the raw peers accept: 64 MiB, the broker's own limit for an assembled body. */
export const MAX_RAW_BODY_BYTES = 64 * 1024 * 1024;

/** The 4-byte big-endian length prefix for a body of `bodyLength` bytes. */
export function encodeLengthPrefix(bodyLength: number): Buffer {
  const header = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES);
  header.writeUInt32BE(bodyLength, 0);
  return header;
}

/**
 * Splits a byte stream into length-prefixed messages, the framing of the raw echo and relay peers.
 *
 * A body that lies inside one chunk is handed out as a `subarray` view (no copy); one that spans
 * chunks is copied once into a buffer allocated at its declared length, so a 1 MiB body arriving in
 * 64 KiB reads costs one copy, not sixteen concatenations.
 *
 *   chunk:  [len][body....][len][bo|   next chunk: dy....][len]...
 *                 ^ view         ^ copied into #body until #bodyFill === #body.length
 */
export class LengthPrefixedDecoder {
  readonly #header = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES);
  #headerFill = 0;
  #body: Buffer | undefined;
  #bodyFill = 0;

  /** Feeds one chunk; calls `onMessage` for every body it completes, in order. */
  push(chunk: Buffer, onMessage: (body: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#body === undefined) {
        const length = this.#readLength(chunk, offset);
        if (length === undefined) return;
        offset = length.next;
        if (chunk.length - offset >= length.value) {
          onMessage(chunk.subarray(offset, offset + length.value));
          offset += length.value;
          continue;
        }
        this.#body = Buffer.allocUnsafe(length.value);
        this.#bodyFill = 0;
      }
      offset = this.#fillBody(chunk, offset, onMessage);
    }
  }

  /** Reads a length prefix at `offset`, possibly completing one begun in an earlier chunk. */
  #readLength(chunk: Buffer, offset: number): { value: number; next: number } | undefined {
    let value: number;
    let next: number;
    if (this.#headerFill === 0 && chunk.length - offset >= LENGTH_PREFIX_BYTES) {
      value = chunk.readUInt32BE(offset);
      next = offset + LENGTH_PREFIX_BYTES;
    } else {
      const take = Math.min(LENGTH_PREFIX_BYTES - this.#headerFill, chunk.length - offset);
      chunk.copy(this.#header, this.#headerFill, offset, offset + take);
      this.#headerFill += take;
      if (this.#headerFill < LENGTH_PREFIX_BYTES) return undefined;
      this.#headerFill = 0;
      value = this.#header.readUInt32BE(0);
      next = offset + take;
    }
    if (value > MAX_RAW_BODY_BYTES) throw new RangeError(`raw message of ${value} bytes exceeds ${MAX_RAW_BODY_BYTES}`);
    return { value, next };
  }

  #fillBody(chunk: Buffer, offset: number, onMessage: (body: Buffer) => void): number {
    const body = this.#body!;
    const take = Math.min(body.length - this.#bodyFill, chunk.length - offset);
    chunk.copy(body, this.#bodyFill, offset, offset + take);
    this.#bodyFill += take;
    if (this.#bodyFill === body.length) {
      this.#body = undefined;
      onMessage(body);
    }
    return offset + take;
  }
}

/**
 * Writes one length-prefixed message. Callers cork the socket around a batch so the header and
 * body of every message written in one tick leave in one `writev`.
 */
export function writeLengthPrefixed(socket: { write(data: Uint8Array): boolean }, body: Uint8Array): boolean {
  socket.write(encodeLengthPrefix(body.length));
  return socket.write(body);
}
