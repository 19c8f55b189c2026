import { type BrokerError, decodeErrorBody } from "@switchyard/protocol";

/**
 * The error an ERROR frame's body stands for: the peer's BrokerError, or — when the body is too
 * short to read — the ProtocolError saying so. Never throws: a bad error frame still settles
 * whatever it was about.
 */
export function errorFromPayload(payload: Buffer): BrokerError {
  try {
    return decodeErrorBody(payload);
  } catch (error) {
    return error as BrokerError;
  }
}
