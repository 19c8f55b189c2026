import {
  BrokerError,
  encodeHeaderBlock,
  FrameFlags,
  formatVersion,
  HEADERS_SINCE_MINOR,
  type Headers,
  ID_SIZE,
  idToString,
  type ProtocolVersion,
  WIRE_ERROR_CODES,
} from "@switchyard/protocol";
import type { Body, BodyStream, Logger } from "@switchyard/transport";
import {
  BodyAssembler,
  type BodyRoute,
  type DeadlineEntry,
  hashRequestId,
  type IdKeyed,
  InboundWindow,
  applyCredit,
  refusal,
  checkBody,
  sendBody,
  type RequestSpan,
  type TableItem,
  tickNow,
  type Tracing,
} from "@switchyard/transport/internal";
import type { Context } from "@opentelemetry/api";
import { readWord } from "@switchyard/protocol";
import type { ResponseBody } from "./provider-options.js";
import { bodyStreamOf, RequestBodyStream } from "./request-body-stream.js";
import type { ProviderRequest, RequestBody } from "./request-context.js";

/** Longest error message sent back, in UTF-16 units: keeps an ERROR frame far below MAX_PAYLOAD. */
const MAX_ERROR_MESSAGE = 16 * 1024;
const EMPTY = Buffer.alloc(0);
/** What respond() and fail() return: they never reject, and most answers are queued at once. */
const SETTLED: Promise<void> = Promise.resolve();

/** What a request needs from its provider. */
export interface RequestOwner {
  readonly logger: Logger;
  /**
   * Largest body assembled, bytes; for a streamed body, the most its reader may leave unread
   * (until flow control bounds that by the credit granted).
   */
  readonly maxRequestBytes: number;
  /** The version the provider's connection negotiated (null while not connected): whether answers may carry headers. */
  readonly protocolVersion: ProtocolVersion | null;
  /** The request is over (answered, failed or cancelled): take it out of the table. */
  finished(request: InboundRequest): void;
}


/**
 * One request served by a provider, from its START to its one answer:
 *
 *   receiving ──(FINAL or END)──► handling ──respond()──► responding ──► done
 *       │                             │ fail()                           ▲
 *       └── cancel / over the limit ──┴──────────────────────────────────┘  (nothing sent after cancel)
 *
 * A request whose body is streamed (streamBody(), at START) skips "receiving": it is handled from
 * its START, and its body flows into `body` alongside the phases until END. When the request is
 * done before that, the body stream is destroyed (with the cancel's reason, if it was cancelled)
 * and the rest of the body is dropped as it arrives: the request has left the provider's table.
 *
 * It is the handler's `ctx` (typed as RequestContext) and what `provider.requests()` yields (typed as
 * ProviderRequest): users see those interfaces, never this class, whose other members are the
 * provider's. The first of respond() and fail() wins; later calls, and any call after the request
 * was cancelled, do nothing.
 *
 * What most requests never use is made only when asked for: the AbortController behind `signal`
 * (when a handler reads it), the BodyAssembler (when the body comes in more than one frame).
 */
export class InboundRequest implements ProviderRequest, TableItem, IdKeyed {
  /** The requestId as words and its hash: the provider's table files the request by them. */
  readonly id0: number;
  readonly id1: number;
  readonly id2: number;
  readonly id3: number;
  readonly idHash: number;
  /** Set once requests() handed it out. */
  taken = false;
  /** The request's headers (docs/protocol.md §1.19); the shared empty map when it had none. */
  readonly headers: Headers;
  /** The provider's table keeps its deadline here. */
  deadline: DeadlineEntry<unknown> | null = null;
  readonly #owner: RequestOwner;
  readonly #route: BodyRoute;
  readonly #id: Buffer;
  readonly #routing: Buffer;
  #controller: AbortController | null = null;
  /** Why the request was cancelled, once it was: `signal` aborts with it, even if first read later. */
  #cancelReason: Error | null = null;
  readonly #deadlineAt: number;
  #phase: "receiving" | "handling" | "responding" | "done" = "receiving";
  #body: BodyAssembler | null = null;
  #payload: Buffer = EMPTY;
  /** The body as a stream: from START in stream mode; made on first read of `body` otherwise. */
  #stream: RequestBodyStream | null = null;
  /** Stream mode: body bytes go to #stream as they arrive. */
  #streamed = false;
  /**
   * On a connection with flow control (1.1, route.receiveWindow set): the credit this side grants
   * the broker for the request body — as the handler reads it (stream mode), or as it is assembled
   * (buffer mode, where maxRequestBytes bounds it). Made with the first body bytes.
   */
  #window: InboundWindow | null = null;
  #response: BodyStream | null = null;
  #requestId: string | undefined;
  /** Its `process <channel>` span and the context the handler runs in, when tracing. */
  #tracing: Tracing | null = null;
  #span: RequestSpan | null = null;
  /** Set when tracing: the handler runs with it active. */
  spanContext: Context | null = null;
  /** What ended the request other than an answer, for its span. */
  #spanError: Error | null = null;

  /**
   * A request that came in on `route` (answers go back there, as RESPONSE_BODY_FRAMES),
   * with its 16-byte `requestId` and 32-byte `routing` header (views of the received frame are
   * fine: they are never modified; the routing header goes back unchanged in front of the
   * answer) and the ms left per the broker (`timeoutMs`, 0 = none given).
   */
  constructor(owner: RequestOwner, route: BodyRoute, requestId: Buffer, routing: Buffer, timeoutMs: number, headers: Headers) {
    this.#owner = owner;
    this.headers = headers;
    this.#route = route;
    this.#id = requestId;
    this.id0 = readWord(requestId, 0);
    this.id1 = readWord(requestId, 4);
    this.id2 = readWord(requestId, 8);
    this.id3 = readWord(requestId, 12);
    this.idHash = hashRequestId(requestId);
    this.#routing = routing;
    this.#deadlineAt = timeoutMs > 0 ? tickNow() + timeoutMs : 0;
  }

  /** Records the request in a `process <channel>` span (a child of the trace its headers carry), ended with the request. */
  trace(tracing: Tracing, bodyBytes: number): void {
    const started = tracing.startProcess(this.channelId, this.requestId, this.headers, bodyBytes);
    this.#tracing = tracing;
    this.#span = started.span;
    this.spanContext = started.context;
  }

  /** The whole request body; empty when it is streamed. */
  get payload(): Buffer {
    return this.#payload;
  }

  /** The body as a stream (see RequestContext.body). */
  get body(): RequestBody {
    this.#stream ??= bodyStreamOf(this.#payload);
    return this.#stream;
  }

  /**
   * Stream mode, chosen at START before any body byte: the request is to be handled now, its body
   * read from `body` as it arrives, not limited by maxRequestBytes.
   */
  streamBody(): void {
    if (this.#phase !== "receiving") return;
    this.#streamed = true;
    // Credit goes back as the reader takes bytes, so a slow handler slows its sender and nothing else.
    this.#stream = new RequestBodyStream((bytes) => this.#window?.consumed(bytes));
    this.#phase = "handling";
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#cancelReason !== null) this.#controller.abort(this.#cancelReason);
    }
    return this.#controller.signal;
  }

  /** True once the request was cancelled (without making `signal`). */
  get cancelled(): boolean {
    return this.#cancelReason !== null;
  }

  get requestId(): string {
    this.#requestId ??= idToString(this.#id);
    return this.#requestId;
  }

  get clientId(): string {
    return idToString(this.#routing.subarray(0, ID_SIZE));
  }

  get channelId(): string {
    return idToString(this.#routing.subarray(ID_SIZE));
  }

  get timeoutMs(): number {
    return this.#deadlineAt === 0 ? 0 : Math.max(0, Math.round(this.#deadlineAt - performance.now()));
  }

  /**
   * Answers with `body`: one RESPONSE frame when it fits, else RESPONSE_START, RESPONSE_CHUNK…,
   * RESPONSE_END, pacing a stream by the connection's `drained()`. Resolves once the answer is
   * queued (or could not be: a failure to deliver is logged, and the consumer still gets its one
   * outcome from the broker); never rejects. A stream that throws midway answers HANDLER_ERROR.
   */
  respond(answer: ResponseBody): Promise<void> {
    if (this.#phase !== "handling") return SETTLED;
    let body = answer as Body;
    let prefix = this.#routing;
    let flags: number = FrameFlags.NONE;
    try {
      if (isReplyWithHeaders(answer)) {
        body = answer.body;
        if (answer.headers !== undefined) {
          prefix = this.#routingWithHeaders(answer.headers);
          flags = FrameFlags.HEADERS;
        }
      }
      checkBody(body, "the handler's answer");
    } catch (error) {
      return this.fail(error);
    }
    this.#phase = "responding";
    const sent = sendBody(this.#route, this.#id, prefix, body, flags);
    if (sent === true) {
      this.#finish();
      return SETTLED;
    }
    if (sent === false) {
      this.#undeliverable(refusal(this.#route.connection));
      return SETTLED;
    }
    this.#response = sent;
    return sent.done.then(
      () => this.#finish(),
      (error: Error) => this.#undeliverable(error),
    );
  }

  /**
   * The routing header followed by the header block of `headers`. Throws InvalidArgumentError for
   * headers the protocol cannot carry, and BrokerError(NOT_SUPPORTED) when the broker speaks 1.0
   * (the request is then answered with that error: its consumer learns why).
   */
  #routingWithHeaders(headers: Headers): Buffer {
    const block = encodeHeaderBlock(headers);
    const version = this.#owner.protocolVersion;
    if (version === null || version.minor < HEADERS_SINCE_MINOR) {
      throw new BrokerError(
        "NOT_SUPPORTED",
        `the provider answered with headers, but its broker speaks protocol ${version === null ? "1.0" : formatVersion(version)}, which has none`,
      );
    }
    return Buffer.concat([this.#routing, block]);
  }

  /**
   * Answers with an error: HANDLER_ERROR carrying `error`'s message, or a thrown BrokerError's own
   * code. Resolves once queued; never rejects.
   */
  fail(error: unknown): Promise<void> {
    if (this.#phase !== "handling" && this.#phase !== "receiving") return SETTLED;
    // the span's error.type is the code the consumer gets: a BrokerError's own, else HANDLER_ERROR
    if (this.#span !== null) this.#spanError = error instanceof BrokerError ? error : new BrokerError("HANDLER_ERROR", String((error as Error)?.message ?? error));
    this.#sendError(toWireError(error));
    this.#finish();
    return SETTLED;
  }

  /**
   * Body bytes of START/CHUNK; over maxRequestBytes the request is answered PAYLOAD_TOO_LARGE
   * (streamed: when more than that waits unread).
   */
  receive(bytes: Buffer): void {
    if (this.#phase === "done") return;
    if (!this.#withinCredit(bytes.length)) return;
    if (this.#streamed) {
      const stream = this.#stream!;
      if (stream.destroyed) {
        this.#window?.consumed(bytes.length); // the handler destroyed ctx.body: dropped, and the sender may go on
        return;
      }
      stream.deliver(bytes);
      if (stream.unread > this.#owner.maxRequestBytes) this.#unreadTooLarge();
      return;
    }
    if (this.#phase !== "receiving") return;
    this.#body ??= new BodyAssembler(this.#owner.maxRequestBytes);
    if (!this.#body.push(bytes)) this.#tooLarge();
    else this.#window?.consumed(bytes.length); // assembled: held within maxRequestBytes, so the sender may go on
  }

  /**
   * A CREDIT for this request's streamed answer (1.1, docs/protocol.md §1.20): it may send that
   * much more. An increment of 0, or one while no answer streams, is ignored; one past 2^31 − 1
   * ends the answer with FLOW_CONTROL_ERROR; an unreadable one is ignored, logged.
   */
  credit(payload: Buffer): void {
    if (applyCredit(payload, this.#response, this.#owner.logger, { requestId: this.requestId })) return;
    this.#failStreaming(new BrokerError("FLOW_CONTROL_ERROR", "the broker granted credit past 2^31 - 1 bytes for this request's answer"));
  }

  /**
   * The START's header block was `bytes` long: flow control counts it as body bytes (§1.20), read
   * at once, so it is received and consumed here, before the body's first bytes.
   */
  receivedHeaderBlock(bytes: number): void {
    if (this.#phase === "done" || !this.#withinCredit(bytes)) return;
    this.#window?.consumed(bytes);
  }

  /**
   * Counts `bytes` of body against the credit granted, on a connection with flow control; false
   * (and the request failed with FLOW_CONTROL_ERROR) when the sender went past it.
   */
  #withinCredit(bytes: number): boolean {
    const window = this.#route.receiveWindow;
    if (window == null) return true;
    this.#window ??= new InboundWindow(window, (increment) => this.#route.connection.sendCredit(this.#id, increment));
    if (this.#window.received(bytes)) return true;
    this.#failStreaming(new BrokerError("FLOW_CONTROL_ERROR", `the request body went past the window this provider granted (${window} bytes, then its CREDITs)`));
    return false;
  }

  /**
   * The whole body in one frame (START|FINAL): true if the request is now to be handled.
   * Needs no assembler: the frame's bytes are the payload.
   */
  receiveWhole(bytes: Buffer): boolean {
    if (this.#phase !== "receiving") return false;
    if (bytes.length > this.#owner.maxRequestBytes) {
      this.#tooLarge();
      return false;
    }
    this.#payload = bytes;
    this.#phase = "handling";
    return true;
  }

  /** The body is complete (END): true if the request is now to be handled (false when it already is, streamed). */
  complete(): boolean {
    this.#window?.end();
    if (this.#streamed) {
      this.#stream!.end();
      return false;
    }
    if (this.#phase !== "receiving") return false;
    this.#payload = this.#body?.take() ?? EMPTY;
    this.#body = null;
    this.#phase = "handling";
    return true;
  }

  /** Ends the request without sending anything more; `reason` aborts `signal`. */
  cancel(reason: Error): void {
    if (this.#phase === "done") return;
    this.#spanError = reason;
    this.#response?.stop();
    this.#stream?.destroy(reason);
    this.#finish();
    this.#cancelReason = reason;
    this.#controller?.abort(reason);
  }

  #tooLarge(): void {
    this.fail(new BrokerError("PAYLOAD_TOO_LARGE", `the request exceeds this provider's maxRequestBytes (${this.#owner.maxRequestBytes} bytes)`));
  }

  /**
   * A streamed body's reader left more than maxRequestBytes unread (possible only without flow
   * control: with it, unread bytes stay within the window granted).
   */
  #unreadTooLarge(): void {
    this.#failStreaming(new BrokerError("PAYLOAD_TOO_LARGE", `the handler left more than this provider's maxRequestBytes (${this.#owner.maxRequestBytes} bytes) of its streamed request body unread`));
  }

  /**
   * The request fails while its body may still be streaming in: the body stream fails with
   * `error`, and so does the request — also when an answer is already streaming out (it may be
   * the body itself, echoed), which is then stopped.
   */
  #failStreaming(error: BrokerError): void {
    this.#stream?.destroy(error);
    if (this.#phase !== "responding") {
      this.fail(error);
      return;
    }
    this.#response?.stop();
    this.#undeliverable(error);
  }

  /** The answer could not go out whole: say so with an error frame, if the stream had not yet ended there. */
  #undeliverable(error: Error): void {
    if (this.#phase === "done") return;
    this.#owner.logger.warn({ requestId: this.requestId, error: error.message }, "could not deliver a response");
    this.#spanError = error;
    this.#sendError(toWireError(error));
    this.#finish();
  }

  #sendError(error: { wireCode: number; message: string }): void {
    // Errors have their own queue on the connection, so this can go out even when responses cannot.
    this.#route.connection.sendError(this.#id, error, this.#routing);
  }

  #finish(): void {
    if (this.#phase === "done") return;
    this.#phase = "done";
    if (this.#span !== null) this.#tracing!.end(this.#span, this.#spanError);
    this.#body = null;
    this.#window?.end();
    // Answered before its body was read to the end: the rest is discarded (see RequestContext.body).
    if (this.#stream !== null && !this.#stream.finished) this.#stream.destroy();
    this.#owner.finished(this);
  }
}

/** True for a handler's `{ body, headers }` answer (a Body is text, bytes or an AsyncIterable, never such an object). */
function isReplyWithHeaders(answer: ResponseBody): answer is { body: Body; headers?: Headers } {
  return (
    typeof answer === "object" &&
    answer !== null &&
    !(answer instanceof Uint8Array) &&
    typeof (answer as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== "function" &&
    "body" in answer
  );
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

