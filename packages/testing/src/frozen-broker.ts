import type { Socket } from "node:net";
import {
  decodeRegistration,
  encodeFrame,
  encodeRegistrationAck,
  encodeRequestHead,
  encodeRoutingHeader,
  FrameDecoder,
  FrameFlags,
  FrameType,
  MAX_PAYLOAD,
  newId,
  PROTOCOL_VERSION,
  Role,
} from "@switchyard/protocol";
import { TrackedServer } from "./tracked-server.js";

/**
 * A broker whose network freezes right after a client registers, as a half-open peer or a
 * SIGSTOPped process looks from the client: it acks the registration (and hands a provider one
 * request, so a handler is running), then never reads, never writes and never closes its side.
 * Only stop() closes what it accepted. (It checks no leak: a frozen socket never reads, so it does
 * not see its client leave.)
 */
export class FrozenBroker {
  #server: TrackedServer | null = null;
  /** Connections that registered and then froze. */
  frozen = 0;

  async start(): Promise<this> {
    this.#server = await TrackedServer.listen((socket) => this.#accept(socket), { name: "FrozenBroker" });
    return this;
  }

  /** "127.0.0.1:port". */
  get address(): string {
    return this.#server!.address;
  }

  /** Destroys every connection it accepted and stops listening. */
  async stop(): Promise<void> {
    await this.#server?.crash();
  }

  #accept(socket: Socket): void {
    const decoder = new FrameDecoder();
    const onData = (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.type !== FrameType.START || (frame.flags & FrameFlags.REGISTRATION) === 0) continue;
        const registration = decodeRegistration(frame.payload);
        const ack = encodeRegistrationAck({ protocolVersion: PROTOCOL_VERSION, maxPayload: MAX_PAYLOAD, serverId: newId() });
        socket.write(Buffer.concat(encodeFrame(FrameType.RESPONSE, FrameFlags.REGISTRATION, frame.requestId, ack)));
        if (registration.role === Role.PROVIDER) {
          const routing = encodeRoutingHeader(newId(), registration.channelId);
          socket.write(Buffer.concat(encodeFrame(FrameType.START, FrameFlags.FINAL, newId(), routing, encodeRequestHead(60_000), Buffer.from("work"))));
        }
        // Frozen from here on: nothing read, nothing written, nothing closed.
        socket.off("data", onData);
        socket.pause();
        this.frozen++;
        return;
      }
    };
    socket.on("data", onData);
  }
}

/** Client options for a test of close() on a FrozenBroker: short close and write timeouts, frequent PINGs. */
export const FROZEN_CLIENT_OPTIONS = { closeTimeout: 300, writeTimeout: 300, pingInterval: 50 } as const;

/**
 * What close() on a FrozenBroker may take with FROZEN_CLIENT_OPTIONS: closeTimeout plus
 * writeTimeout, plus 3 s of slack for a loaded machine (still far below the 2 min read timeout).
 */
export const FROZEN_CLOSE_BOUND_MS = FROZEN_CLIENT_OPTIONS.closeTimeout + FROZEN_CLIENT_OPTIONS.writeTimeout + 3000;
