import type { Socket } from "node:net";
import { AnetDecoder, type AnetFrame, type AnetLengthSize, encodeAnetFrame } from "@switchyard/protocol";
import { closeAfterTest } from "./cleanup.js";
import { TrackedServer } from "./tracked-server.js";

/** A raw TCP server whose anet connections the test drives frame by frame. */
export interface RawAnetServer {
  /** "127.0.0.1:port". */
  address: string;
  /** Sockets accepted so far, in order. */
  sockets: readonly Socket[];
  /** Bytes received over all connections. */
  bytesReceived(): number;
}

/**
 * A TCP server that hands each decoded anet request to `onFrame` with its socket and the index of
 * the connection (0 for the first accepted). Closed after the test, which fails if a client still
 * holds a connection to it then.
 */
export async function startRawAnetServer(
  onFrame: (frame: AnetFrame, socket: Socket, connection: number) => void,
  lengthSize: AnetLengthSize = 2,
): Promise<RawAnetServer> {
  let received = 0;
  let count = 0;
  const server = await TrackedServer.listen(
    (socket) => {
      const index = count++;
      const decoder = new AnetDecoder({ lengthSize });
      socket.setNoDelay(true);
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        for (const frame of decoder.push(chunk)) onFrame(frame, socket, index);
      });
    },
    { name: "raw anet server" },
  );
  closeAfterTest(server);
  return { address: server.address, sockets: server.accepted, bytesReceived: () => received };
}

/** Writes one anet frame to a raw socket. */
export function replyAnet(socket: Socket, taskId: number, body: Uint8Array | string, lengthSize: AnetLengthSize = 2): void {
  socket.write(Buffer.concat(encodeAnetFrame(taskId, typeof body === "string" ? Buffer.from(body) : body, { lengthSize })));
}
