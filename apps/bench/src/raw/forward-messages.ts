import type net from "node:net";
import { LengthPrefixedDecoder, writeLengthPrefixed } from "./length-prefixed.js";

/**
 * Parses every length-prefixed message read on `from` and writes each, on its own, to `to`,
 * corked per read (the batching a broker is allowed too). `from === to` makes an echo. Either
 * side's error or close ends both.
 */
export function forwardMessages(from: net.Socket, to: net.Socket): void {
  const decoder = new LengthPrefixedDecoder();
  from.on("data", (chunk: Buffer) => {
    to.cork();
    decoder.push(chunk, (body) => writeLengthPrefixed(to, body));
    to.uncork();
  });
  from.on("error", () => to.destroy());
  from.on("close", () => to.destroy());
}
