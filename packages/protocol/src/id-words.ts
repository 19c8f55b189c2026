/**
 * Big-endian 32-bit words of ids, read and written byte by byte: Buffer's readUInt32BE and
 * writeUInt32BE validate their arguments and cost several times more, and ids are matched by
 * their words on every frame. Callers guarantee the 4 bytes are there; nothing is checked.
 */

/** The signed 32-bit word at `at` of `bytes` (signed, so V8 keeps it a small integer). */
export function readWord(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

/** Writes `word` at `at` of `bytes`, big-endian (a Uint8Array keeps each byte's low 8 bits). */
export function writeWord(bytes: Uint8Array, at: number, word: number): void {
  bytes[at] = word >>> 24;
  bytes[at + 1] = word >>> 16;
  bytes[at + 2] = word >>> 8;
  bytes[at + 3] = word;
}
