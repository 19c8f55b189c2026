import { parse, v4, validate } from "uuid";
import { ID_SIZE } from "./constants.js";
import { InvalidArgumentError } from "./errors.js";

/** A new random UUID as its 16 wire bytes. */
export function newId(): Buffer {
  return v4({}, Buffer.allocUnsafe(ID_SIZE));
}

/** A new random UUID in its canonical string form. */
export function newIdString(): string {
  return v4();
}

/** The 16 wire bytes of a UUID string; throws InvalidArgumentError naming `what` if it is not one. */
export function idToBytes(id: string, what = "id"): Buffer {
  if (typeof id !== "string" || !validate(id)) {
    throw new InvalidArgumentError(`${what} must be a UUID string such as "9b2c6f0e-4a53-4c1e-8f0a-3f1f6c2d7e11", got ${JSON.stringify(id)}`);
  }
  return Buffer.from(parse(id));
}

/**
 * The canonical string form of 16 id bytes. Any bytes are accepted, as the wire allows any
 * 16 bytes: no version or variant check.
 */
export function idToString(bytes: Uint8Array): string {
  if (bytes.length !== ID_SIZE) throw new InvalidArgumentError(`an id is ${ID_SIZE} bytes, got ${bytes.length}`);
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, ID_SIZE).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
