import { isUtf8 } from "node:buffer";
import { BrokerError, InvalidArgumentError } from "./errors.js";

/**
 * Headers of a request or response (docs/protocol.md §1.19): names are lowercase tokens, values
 * UTF-8 text. What a decoder returns has no prototype, so a header named `__proto__` or
 * `constructor` is an entry like any other.
 */
export type Headers = Readonly<Record<string, string>>;

/** Most entries in one header block: 64. */
export const MAX_HEADER_ENTRIES = 64;

/** Most bytes of an encoded header block, its 2-byte size field included: 16 KiB. */
export const MAX_HEADER_BLOCK_BYTES = 16_384;

/** Longest header name, bytes: its length is one byte. */
export const MAX_HEADER_NAME_BYTES = 255;

/** Bytes of the block's size field (u16: bytes of the entries after it). */
const SIZE_FIELD = 2;

/** The empty header map, shared: what a request or response without a block has. */
export const NO_HEADERS: Headers = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * Which bytes may make a header name: the token characters of RFC 9110 §5.6.2, letters in lower
 * case only (HTTP/2 and HTTP/3 send names in lower case too; encodeHeaderBlock lowercases).
 */
const NAME_BYTE = (() => {
  const table = new Uint8Array(256);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") table[c.charCodeAt(0)] = 1;
  return table;
})();

/**
 * Encodes `headers` as a header block:
 *
 *   size u16 | nameLength u8 | name | valueLength u16 | value | nameLength u8 | …
 *
 * `size` counts the bytes after it. Names are lowercased; a name that is empty, longer than 255
 * bytes, not made of token characters, or the same as another after lowercasing, a value that is
 * not a string, more than MAX_HEADER_ENTRIES entries, or a block over MAX_HEADER_BLOCK_BYTES throw
 * InvalidArgumentError (the caller's mistake), before anything is sent.
 */
export function encodeHeaderBlock(headers: Readonly<Record<string, string>>): Buffer {
  if (headers === null || typeof headers !== "object") throw new InvalidArgumentError(`headers must be an object of strings, got ${headers === null ? "null" : typeof headers}`);
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADER_ENTRIES) {
    throw new InvalidArgumentError(`${entries.length} headers exceed the limit of ${MAX_HEADER_ENTRIES}`);
  }
  const names = new Set<string>();
  let size = SIZE_FIELD;
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    checkName(lower, name);
    if (names.has(lower)) throw new InvalidArgumentError(`header "${name}" is given twice (names are case-insensitive)`);
    names.add(lower);
    if (typeof value !== "string") throw new InvalidArgumentError(`header "${name}" must be a string, got ${typeof value}`);
    size += 1 + lower.length + 2 + Buffer.byteLength(value, "utf8");
    if (size > MAX_HEADER_BLOCK_BYTES) throw tooLarge(size);
  }
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16BE(size - SIZE_FIELD, 0);
  let at = SIZE_FIELD;
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    out[at] = lower.length;
    at += 1 + out.write(lower, at + 1, "latin1");
    const valueBytes = out.write(value, at + 2, "utf8");
    out.writeUInt16BE(valueBytes, at);
    at += 2 + valueBytes;
  }
  return out;
}

/**
 * Checks the bounds of the header block at `offset` of `payload` without decoding it — what a
 * broker does before forwarding one untouched — and returns its length in bytes, size field
 * included. A block that runs past the payload, is over MAX_HEADER_BLOCK_BYTES, has more than
 * MAX_HEADER_ENTRIES entries, an empty name, or an entry that runs past its size throws
 * BrokerError(BAD_HEADERS). Allocates nothing.
 */
export function headerBlockLength(payload: Uint8Array, offset: number): number {
  if (payload.length - offset < SIZE_FIELD) throw malformed(`the ${SIZE_FIELD}-byte size of the header block is missing`);
  const size = (payload[offset]! << 8) | payload[offset + 1]!;
  const length = SIZE_FIELD + size;
  if (length > MAX_HEADER_BLOCK_BYTES) throw tooLargeOnWire(length);
  if (payload.length - offset < length) throw malformed(`the header block says ${size} bytes but ${payload.length - offset - SIZE_FIELD} follow`);
  const end = offset + length;
  let at = offset + SIZE_FIELD;
  let entries = 0;
  while (at < end) {
    if (++entries > MAX_HEADER_ENTRIES) throw malformed(`more than ${MAX_HEADER_ENTRIES} headers`);
    const nameLength = payload[at]!;
    if (nameLength === 0) throw malformed(`header ${entries} has an empty name`);
    at += 1 + nameLength;
    if (at + 2 > end) throw malformed(`header ${entries} runs past the end of the block`);
    at += 2 + ((payload[at]! << 8) | payload[at + 1]!);
    if (at > end) throw malformed(`the value of header ${entries} runs past the end of the block`);
  }
  return length;
}

/**
 * Decodes the header block at `offset` of `payload`: its headers (an object without prototype)
 * and its length, size field included. Anything headerBlockLength refuses, a name that is not a
 * lowercase token, a name given twice, or a value that is not UTF-8 throws BrokerError(BAD_HEADERS)
 * — and nothing else, whatever the bytes.
 */
export function decodeHeaderBlock(payload: Uint8Array, offset: number): { headers: Headers; length: number } {
  const length = headerBlockLength(payload, offset);
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const headers = Object.create(null) as Record<string, string>;
  const end = offset + length;
  let at = offset + SIZE_FIELD;
  while (at < end) {
    const nameLength = bytes[at]!;
    const nameStart = at + 1;
    for (let i = nameStart; i < nameStart + nameLength; i++) {
      if (NAME_BYTE[bytes[i]!] !== 1) throw malformed(`a header name holds byte 0x${bytes[i]!.toString(16).padStart(2, "0")}, not a lowercase token character`);
    }
    const name = bytes.toString("latin1", nameStart, nameStart + nameLength);
    at = nameStart + nameLength;
    const valueLength = bytes.readUInt16BE(at);
    const value = bytes.subarray(at + 2, at + 2 + valueLength);
    if (!isUtf8(value)) throw malformed(`the value of header "${name}" is not UTF-8`);
    if (name in headers) throw malformed(`header "${name}" appears twice`);
    headers[name] = value.toString("utf8");
    at += 2 + valueLength;
  }
  return { headers, length };
}

function checkName(lower: string, given: string): void {
  if (lower.length === 0) throw new InvalidArgumentError("a header name must not be empty");
  if (lower.length > MAX_HEADER_NAME_BYTES) throw new InvalidArgumentError(`header name "${given.slice(0, 40)}…" is longer than ${MAX_HEADER_NAME_BYTES} bytes`);
  for (let i = 0; i < lower.length; i++) {
    const code = lower.charCodeAt(i);
    if (code > 0xff || NAME_BYTE[code] !== 1) {
      throw new InvalidArgumentError(`header name "${given}" may hold only letters, digits and !#$%&'*+-.^_\`|~`);
    }
  }
}

function tooLarge(size: number): InvalidArgumentError {
  return new InvalidArgumentError(`the headers need ${size} bytes or more encoded, over the limit of ${MAX_HEADER_BLOCK_BYTES}`);
}

function tooLargeOnWire(length: number): BrokerError {
  return malformed(`a header block of ${length} bytes is over the limit of ${MAX_HEADER_BLOCK_BYTES}`);
}

function malformed(why: string): BrokerError {
  return new BrokerError("BAD_HEADERS", `malformed header block: ${why}`);
}
