import { BrokerError, ProtocolError } from "./errors.js";

const CODE_SIZE = 2;

/** Encodes an error body: `code u16`, then the UTF-8 message. */
export function encodeErrorBody(error: { wireCode: number; message: string }): Buffer {
  const messageBytes = Buffer.byteLength(error.message, "utf8");
  const out = Buffer.allocUnsafe(CODE_SIZE + messageBytes);
  out.writeUInt16BE(error.wireCode, 0);
  out.write(error.message, CODE_SIZE, "utf8");
  return out;
}

/** Decodes an error body into the BrokerError it stands for. */
export function decodeErrorBody(payload: Buffer): BrokerError {
  if (payload.length < CODE_SIZE) {
    throw new ProtocolError(`error body of ${payload.length} bytes is shorter than its ${CODE_SIZE}-byte code`);
  }
  return BrokerError.fromWire(payload.readUInt16BE(0), payload.toString("utf8", CODE_SIZE));
}
