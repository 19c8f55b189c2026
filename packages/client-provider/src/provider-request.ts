import { BrokerError, ID_SIZE, idToString, WIRE_ERROR_CODES } from "@switchyard/protocol";
import {
  type Body,
  BodyAssembler,
  type BodyStream,
  type ConnectionContext,
  type Logger,
  RESPONSE_BODY_FRAMES,
  refusal,
  requestKey,
  sendBody,
} from "@switchyard/transport";
import type { RequestContext } from "./provider-options.js";

/** Longest error message sent back, in UTF-16 units: keeps an ERROR frame far below MAX_PAYLOAD. */
const MAX_ERROR_MESSAGE = 16 * 1024;

/** What a request needs from its provider. */
export interface RequestOwner {
  readonly logger: Logger;
  /** The request is over (answered, failed or cancelled): take it out of the table. */
  finished(request: ProviderRequest): void;
}

/** Where a request came from and how to answer it. */
export interface RequestOrigin {
  requestId: Buffer;
  /** The 32-byte routing header, copied: it goes back, unchanged, in front of the answer. */
  routing: Buffer;
  connection: ConnectionContext;
  /** Largest frame payload the broker accepts, bytes. */
  maxPayload: number;
  /** Ms left per the broker; 0 = none given. */
  timeoutMs: number;
  /** Largest body assembled, bytes. */
  maxRequestBytes: number;
}

/**
 * One request served by a provider, from its START to its one answer:
 *
 *   receiving ──(FINAL or END)──► handling ──respond()──► responding ──► done
 *       │                             │ fail()                           ▲
 *       └── cancel / over the limit ──┴──────────────────────────────────┘  (nothing sent after cancel)
 *
 * It is the handler's `ctx`, and what `provider.requests()` yields. The first of respond() and
 * fail() wins; later calls, and any call after the request was cancelled, do nothing.
 */
export class ProviderRequest implements RequestContext {
  /** @internal The provider's table key. */
  readonly key: string;
  /** @internal Set once requests() handed it out. */
  taken = false;
  readonly #origin: RequestOrigin;
  readonly #owner: RequestOwner;
  readonly #controller = new AbortController();
  readonly #deadline: number;
  #phase: "receiving" | "handling" | "responding" | "done" = "receiving";
  #body: BodyAssembler | null;
  #payload: Buffer | null = null;
  #response: BodyStream | null = null;
  #requestId: string | undefined;

  constructor(origin: RequestOrigin, owner: RequestOwner) {
    this.#origin = origin;
    this.#owner = owner;
    this.key = requestKey(origin.requestId);
    this.#deadline = origin.timeoutMs > 0 ? performance.now() + origin.timeoutMs : 0;
    this.#body = new BodyAssembler(origin.maxRequestBytes);
  }

  /** The whole request body. */
  get payload(): Buffer {
    return this.#payload ?? Buffer.alloc(0);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get requestId(): string {
    this.#requestId ??= idToString(this.#origin.requestId);
    return this.#requestId;
  }

  get clientId(): string {
    return idToString(this.#origin.routing.subarray(0, ID_SIZE));
  }

  get channelId(): string {
    return idToString(this.#origin.routing.subarray(ID_SIZE));
  }

  get timeoutMs(): number {
    return this.#deadline === 0 ? 0 : Math.max(0, Math.round(this.#deadline - performance.now()));
  }

  /**
   * Answers with `body`: one RESPONSE frame when it fits, else RESPONSE_START, RESPONSE_CHUNK…,
   * RESPONSE_END, pacing a stream by the connection's `drained()`. Resolves once the answer is
   * queued (or could not be: a failure to deliver is logged, and the consumer still gets its one
   * outcome from the broker); never rejects. A stream that throws midway answers HANDLER_ERROR.
   */
  respond(body: Body): Promise<void> {
    if (this.#phase !== "handling") return Promise.resolve();
    if (!isBody(body)) return this.fail(new TypeError(`the handler answered ${describe(body)}, not a string, Uint8Array or AsyncIterable`));
    this.#phase = "responding";
    const { connection, requestId, routing, maxPayload } = this.#origin;
    const sent = sendBody({ connection, requestId, prefix: routing, frames: RESPONSE_BODY_FRAMES, maxPayload }, body);
    if (sent === true) {
      this.#finish();
      return Promise.resolve();
    }
    if (sent === false) {
      this.#undeliverable(refusal(connection));
      return Promise.resolve();
    }
    this.#response = sent;
    return sent.done.then(
      () => this.#finish(),
      (error: Error) => this.#undeliverable(error),
    );
  }

  /**
   * Answers with an error: HANDLER_ERROR carrying `error`'s message, or a thrown BrokerError's own
   * code. Resolves once queued; never rejects.
   */
  fail(error: unknown): Promise<void> {
    if (this.#phase !== "handling" && this.#phase !== "receiving") return Promise.resolve();
    this.#sendError(toWireError(error));
    this.#finish();
    return Promise.resolve();
  }

  /** @internal Body bytes of START/CHUNK; over maxRequestBytes the request is answered PAYLOAD_TOO_LARGE. */
  receive(bytes: Buffer): void {
    if (this.#phase !== "receiving" || this.#body === null) return;
    if (this.#body.push(bytes)) return;
    this.fail(new BrokerError("PAYLOAD_TOO_LARGE", `the request exceeds this provider's maxRequestBytes (${this.#origin.maxRequestBytes} bytes)`));
  }

  /** @internal The body is complete (FINAL or END): true if the request is now to be handled. */
  complete(): boolean {
    if (this.#phase !== "receiving" || this.#body === null) return false;
    this.#payload = this.#body.take();
    this.#body = null;
    this.#phase = "handling";
    return true;
  }

  /** @internal Ends the request without sending anything more; `reason` aborts `signal`. */
  cancel(reason: Error): void {
    if (this.#phase === "done") return;
    this.#response?.stop();
    this.#finish();
    this.#controller.abort(reason);
  }

  /** The answer could not go out whole: say so with an error frame, if the stream had not yet ended there. */
  #undeliverable(error: Error): void {
    if (this.#phase === "done") return;
    this.#owner.logger.warn({ requestId: this.requestId, error: error.message }, "could not deliver a response");
    this.#sendError(toWireError(error));
    this.#finish();
  }

  #sendError(error: { wireCode: number; message: string }): void {
    // Errors have their own queue on the connection, so this can go out even when responses cannot.
    this.#origin.connection.sendError(this.#origin.requestId, error, this.#origin.routing);
  }

  #finish(): void {
    if (this.#phase === "done") return;
    this.#phase = "done";
    this.#body = null;
    this.#owner.finished(this);
  }
}

/** A handler's failure as the wire carries it. */
function toWireError(error: unknown): { wireCode: number; message: string } {
  if (error instanceof BrokerError && error.wireCode !== 0) return { wireCode: error.wireCode, message: clip(error.message) };
  const message = error instanceof Error ? error.message : String(error);
  return { wireCode: WIRE_ERROR_CODES.HANDLER_ERROR, message: clip(message) };
}

function clip(message: string): string {
  return message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}…` : message;
}

function isBody(value: unknown): value is Body {
  return typeof value === "string" || value instanceof Uint8Array || (value != null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function");
}

function describe(value: unknown): string {
  return value === null ? "null" : typeof value;
}
