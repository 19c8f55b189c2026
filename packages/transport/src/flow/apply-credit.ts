import { decodeCredit } from "@switchyard/protocol";
import type { BodyStream } from "../body/body-sender.js";
import type { Logger } from "../options/logger.js";

/**
 * A CREDIT frame's `payload` for `stream`, the body it grants (null when none is streaming): the
 * stream may send that much more (docs/protocol.md §1.20). An increment of 0, or one for no
 * stream, is ignored; an unreadable payload is ignored and logged (`fields` name the request).
 * False only when the credit takes the stream past 2^31 − 1: the caller ends the request with
 * FLOW_CONTROL_ERROR.
 */
export function applyCredit(payload: Uint8Array, stream: BodyStream | null, logger: Logger, fields: Record<string, unknown> = {}): boolean {
  let increment: number;
  try {
    increment = decodeCredit(payload);
  } catch (error) {
    logger.warn({ ...fields, error: (error as Error).message }, "ignored a malformed CREDIT from the broker");
    return true;
  }
  return increment === 0 || stream === null || stream.grant(increment);
}
