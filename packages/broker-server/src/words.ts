/**
 * Big-endian 32-bit words read and written byte by byte. The broker keeps ids and routing headers
 * as words so that matching them is integer compares: Buffer's readInt32BE / compare validate
 * their arguments (compare crosses into C++) and cost several times more per request.
 * Callers guarantee the 4 bytes are there; nothing is checked.
 */

/** The signed 32-bit word at `offset` of `bytes` (signed so it stays a small integer in V8). */
export function readWord(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}

/** Writes `word` at `offset` of `bytes`, big-endian (the Uint8Array keeps each byte's low 8 bits). */
export function writeWord(bytes: Uint8Array, offset: number, word: number): void {
  bytes[offset] = word >>> 24;
  bytes[offset + 1] = word >>> 16;
  bytes[offset + 2] = word >>> 8;
  bytes[offset + 3] = word;
}

/** `bytes` as words, for matching with `startsWithWords`. `bytes.length` is a multiple of 4. */
export function toWords(bytes: Uint8Array): Int32Array {
  const words = new Int32Array(bytes.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = readWord(bytes, i * 4);
  return words;
}

/** True when `bytes` begins with the bytes `words` stand for (false when it is shorter). */
export function startsWithWords(bytes: Uint8Array, words: Int32Array): boolean {
  if (bytes.length < words.length * 4) return false;
  for (let i = 0; i < words.length; i++) if (readWord(bytes, i * 4) !== words[i]) return false;
  return true;
}
