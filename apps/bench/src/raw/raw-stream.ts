import net from "node:net";
import { once } from "node:events";
import { LengthPrefixedDecoder, writeLengthPrefixed } from "./length-prefixed.js";

/**
 * Bytes the raw stream lets be on their way (sent, not yet echoed back): 16 MiB, the window a
 * Switchyard stream gets, so both run with the same bytes in flight.
 */
export const RAW_STREAM_WINDOW = 16 * 1024 * 1024;

/**
 * The raw relay's side of stream1GiB: sends every piece of `source` as one length-prefixed message
 * to `port` (the relay, which forwards it to its echo server and the echo back), never more than
 * RAW_STREAM_WINDOW unanswered and waiting for 'drain' when the socket says so, and reads the echoes
 * as they come. Resolves with the bytes that came back once `total` have, or the connection ends.
 */
export async function rawStream(port: number, source: AsyncIterable<Buffer>, total: number): Promise<number> {
  const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
  await once(socket, "connect");
  const decoder = new LengthPrefixedDecoder();
  let received = 0;
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const done = new Promise<void>((resolve, reject) => {
    socket.on("data", (chunk: Buffer) =>
      decoder.push(chunk, (body) => {
        received += body.length;
        wake?.();
        if (received >= total) resolve();
      }),
    );
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`raw relay connection closed after ${received} of ${total} bytes`)));
  });
  done.catch((error: Error) => {
    failure = error;
    wake?.();
  });
  try {
    let sent = 0;
    for await (const piece of source) {
      while (sent - received >= RAW_STREAM_WINDOW) {
        if (failure !== null) throw failure;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (!writeLengthPrefixed(socket, piece)) await once(socket, "drain");
      sent += piece.length;
    }
    await done;
    return received;
  } finally {
    socket.destroy();
  }
}
