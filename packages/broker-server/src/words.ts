import { readWord } from "@switchyard/protocol";

/**
 * Byte strings the broker matches on every frame (a consumer's routing header), kept as
 * big-endian 32-bit words so that matching is a few integer compares: Buffer.compare validates
 * its arguments and crosses into C++, several times the cost per response.
 */

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
