import { BrokerError, FrameFlags, FrameType, InvalidArgumentError, REQUEST_HEAD_SIZE, ROUTING_HEADER_SIZE } from "@switchyard/protocol";
import type { ConnectionContext } from "../connection/connection-context.js";
import { DisconnectedError } from "../errors.js";
import { OutboundCredit } from "../flow/outbound-credit.js";

/**
 * A request or response body as the clients accept it: text (sent as UTF-8), bytes, or a stream
 * of chunks — a Node Readable is an AsyncIterable, so it fits, as do async generators.
 */
export type Body = string | Uint8Array | AsyncIterable<Uint8Array | string>;

/** The frames that carry a body in one direction. */
export interface BodyFrames {
  /** Type and flags of a body that fits one frame. */
  readonly wholeType: FrameType;
  readonly wholeFlags: number;
  /** First frame of a streamed body (prefix + first bytes), then chunks, then the empty end. */
  readonly start: FrameType;
  readonly chunk: FrameType;
  readonly end: FrameType;
  /**
   * Bytes at the front of a first frame's prefix that are not body: the request head (a consumer's
   * START) or the routing header (a provider's RESPONSE_START). The rest of a prefix — a header
   * block — counts as body bytes against the receiver's credit (docs/protocol.md §1.20).
   */
  readonly fixedPrefix: number;
}

/** Consumer → broker: START|FINAL, or START, CHUNK…, END. */
export const REQUEST_BODY_FRAMES: BodyFrames = {
  wholeType: FrameType.START,
  wholeFlags: FrameFlags.FINAL,
  start: FrameType.START,
  chunk: FrameType.CHUNK,
  end: FrameType.END,
  fixedPrefix: REQUEST_HEAD_SIZE,
};

/** Provider → broker: RESPONSE, or RESPONSE_START, RESPONSE_CHUNK…, RESPONSE_END. */
export const RESPONSE_BODY_FRAMES: BodyFrames = {
  wholeType: FrameType.RESPONSE,
  wholeFlags: FrameFlags.NONE,
  start: FrameType.RESPONSE_START,
  chunk: FrameType.RESPONSE_CHUNK,
  end: FrameType.RESPONSE_END,
  fixedPrefix: ROUTING_HEADER_SIZE,
};

/**
 * Where bodies go and how: the same for every body sent on one connection, so a client makes it
 * once per connection, not once per request.
 */
export interface BodyRoute {
  connection: ConnectionContext;
  frames: BodyFrames;
  /** Largest payload of one frame, in bytes (the broker's announced maxPayload). */
  maxPayload: number;
  /**
   * Bytes a forwarder will put in front of the first frame's payload, kept free in it. A consumer
   * reserves ROUTING_HEADER_SIZE: the broker forwards its START with the routing header prepended,
   * and that frame must still fit maxPayload. Default 0.
   */
  reserve?: number;
  /**
   * 1.1 (docs/protocol.md §1.20): the initial window the peer grants each body this side sends it
   * (its ack's or registration's stream window): a streamed body then goes out only as its credit
   * allows. Null or absent: the peer speaks 1.0, the credit is unlimited and only the socket paces.
   */
  sendWindow?: number | null;
  /**
   * 1.1: the initial window this side announced for each body it receives on this connection
   * (InboundWindow's); null or absent on a 1.0 connection, where nothing is flow-controlled.
   */
  receiveWindow?: number | null;
}

/** A body being streamed. */
export interface BodyStream {
  /**
   * Resolves once the last frame is queued, or once stop() was called; rejects with
   * `refusal(connection)` when a frame cannot be queued, or with the source's own error.
   */
  readonly done: Promise<void>;
  /** The exchange ended elsewhere (timeout, cancel, an early answer): send no more, release the source. */
  stop(): void;
  /**
   * A CREDIT for this body arrived (1.1): the stream may send `increment` bytes more. False when it
   * takes the credit past MAX_WINDOW: the receiver broke flow control (FLOW_CONTROL_ERROR).
   */
  grant(increment: number): boolean;
}

const EMPTY = Buffer.alloc(0);
const STOPPED: unique symbol = Symbol("stopped");
/**
 * Bytes a streamed body lets wait on its connection (queued plus the socket's buffer) before its
 * next frame waits for the connection to drain: 4 MiB, a few frames' worth — enough to keep the
 * socket busy, and a small share of the write queue (64 MiB by default), whose rest stays free for
 * the frames of other requests on the same connection.
 */
export const STREAM_HIGH_WATER = 4 * 1024 * 1024;

/**
 * Sends `body` for `requestId` on `route`, `prefix` (a request head, or a routing header) leading
 * the first frame's payload. Text or bytes that fit one frame beside the prefix go as one frame,
 * and the answer is synchronous: true if queued, false if refused (see `refusal`). Anything else
 * streams — a first frame, chunks of ≤ maxPayload, an empty end — without reading the body into
 * memory first, paced by the socket (no more than about STREAM_HIGH_WATER bytes wait on the
 * connection before the next frame awaits its `drained()`) and, on a 1.1 connection, by the
 * receiver's credit (route.sendWindow, then BodyStream.grant(): no byte past it is sent, and a
 * source is not read further while there is none), so a body of any size goes out as the
 * receiver takes it; the returned
 * BodyStream says when it is done and lets the caller stop it (a stopped Readable is destroyed).
 * Bytes too long for one frame go as the prefix alone, then whole chunks of maxPayload: a body of
 * up to maxPayload then reaches the receiver as one chunk it takes as it is, instead of a first
 * piece and a rest it must copy into one buffer. A stream's first frame carries its first piece.
 * A stream keeps its own copy of `requestId`, so the caller may reuse that buffer at once;
 * `prefix` must stay unchanged until the stream is done. `firstFlags` are set on the first frame
 * besides its own (HEADERS, when `prefix` ends with a header block).
 */
export function sendBody(route: BodyRoute, requestId: Uint8Array, prefix: Uint8Array, body: Body, firstFlags: number = FrameFlags.NONE): boolean | BodyStream {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body instanceof Uint8Array ? body : null;
  if (bytes !== null && bytes.length <= firstRoom(route, prefix)) {
    return route.connection.sendFrame(route.frames.wholeType, route.frames.wholeFlags | firstFlags, requestId, prefix, bytes);
  }
  const credit = route.sendWindow == null ? null : new OutboundCredit(route.sendWindow);
  const stream: BodyStreamer = { route, requestId: Buffer.from(requestId), prefix, firstFlags, stopped: false, wake: null, credit };
  const done = bytes !== null ? streamBytes(stream, bytes) : streamSource(stream, body as AsyncIterable<Uint8Array | string>);
  return { done, stop: () => stopStreaming(stream), grant: (increment) => credit === null || credit.grant(increment) };
}

/**
 * Throws InvalidArgumentError unless `body` is a Body: text, bytes or an AsyncIterable of chunks.
 * `what` names it in the message. Checked before anything is sent, so a bad body never starts an
 * exchange.
 */
export function checkBody(body: unknown, what: string): asserts body is Body {
  if (typeof body === "string" || body instanceof Uint8Array) return;
  if (body != null && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") return;
  throw new InvalidArgumentError(`${what} must be a string, a Uint8Array or an AsyncIterable of chunks, got ${body === null ? "null" : typeof body}`);
}

/**
 * Why a connection refused a frame: DisconnectedError when it is no longer open, otherwise
 * BrokerError(OVERLOADED) — its bounded write queue is full.
 */
export function refusal(connection: ConnectionContext): Error {
  if (connection.state !== "open") return new DisconnectedError("the connection closed before the frame could be queued");
  return new BrokerError("OVERLOADED", "the connection's write queue is full; the request was refused");
}

/**
 * One body on its way: where it goes, under which id, and whether it was stopped. (A flag and one
 * callback rather than an AbortController: one is made per streamed body, and a controller, its
 * signal and their listeners cost more than the rest of the stream's bookkeeping.)
 */
interface BodyStreamer {
  route: BodyRoute;
  /** Our own copy. */
  requestId: Buffer;
  prefix: Uint8Array;
  /** Flags of the first frame besides its own. */
  firstFlags: number;
  stopped: boolean;
  /** Set while the stream awaits its source or its credit: resolves that wait at once when the stream stops. */
  wake: (() => void) | null;
  /** What the receiver lets it send (1.1); null: unlimited (1.0), paced by the socket alone. */
  credit: OutboundCredit | null;
}

function stopStreaming(stream: BodyStreamer): void {
  stream.stopped = true;
  stream.wake?.();
  stream.credit?.release();
}

/**
 * Queues a frame of the body now if the connection has room for it: it holds less than
 * STREAM_HIGH_WATER bytes, is not blocked, and takes the frame. Returns true if queued, false if
 * the frame must wait for a drain (queueWhenDrained). Throws `refusal(connection)` once the
 * connection is no longer open, or when it refuses the frame with nothing else queued (it could
 * never take it). Synchronous, so the frames of a body that fits at once share one write.
 */
function queueNow(stream: BodyStreamer, type: FrameType, flags: number, payload: Uint8Array[]): boolean {
  const { connection } = stream.route;
  if (connection.blocked || connection.queuedBytes >= STREAM_HIGH_WATER) return false;
  if (connection.sendFrameParts(type, flags, stream.requestId, payload)) return true;
  if (connection.state !== "open" || (connection.queuedFrames === 0 && connection.queuedBytes === 0)) throw refusal(connection);
  return false;
}

/**
 * The frame queueNow could not take: waits for the connection to drain until it can, instead of
 * failing — a body is paced by the socket and never refused for its size here (the receiver's
 * limit answers that with PAYLOAD_TOO_LARGE), and it leaves the rest of the write queue to other
 * requests' frames. Resolves true once queued, false if the stream was stopped meanwhile; throws
 * as queueNow does.
 */
async function queueWhenDrained(stream: BodyStreamer, type: FrameType, flags: number, payload: Uint8Array[]): Promise<boolean> {
  do {
    await stream.route.connection.drained();
    if (stream.stopped) return false;
  } while (!queueNow(stream, type, flags, payload));
  return true;
}

/**
 * Queues a frame: `true` at once when there is room (no await, so a body's frames share one
 * write), else a promise of queueWhenDrained's answer.
 */
function queue(stream: BodyStreamer, type: FrameType, flags: number, ...payload: Uint8Array[]): true | Promise<boolean> {
  return queueNow(stream, type, flags, payload) || queueWhenDrained(stream, type, flags, payload);
}

/**
 * Bytes too long for the first frame: the prefix alone, then the body in whole maxPayload chunks,
 * then the end — in one go while the connection has room, paced by its drains beyond that.
 */
async function streamBytes(stream: BodyStreamer, bytes: Uint8Array): Promise<void> {
  const { frames } = stream.route;
  let queued = queue(stream, frames.start, stream.firstFlags, stream.prefix);
  if (queued !== true && !(await queued)) return;
  stream.credit?.take(prefixBodyBytes(stream)); // a header block in the prefix is body to the receiver's credit
  queued = queueChunks(stream, toBuffer(bytes));
  if (queued !== true && !(await queued)) return;
  queued = queue(stream, frames.end, FrameFlags.NONE);
  if (queued !== true) await queued;
}

/**
 * Queues `bytes` (from `from` on) as chunks of ≤ maxPayload, each within the stream's credit:
 * `true` at once when all were queued without waiting (so a body that fits shares one write), else
 * a promise that waits for room or a grant and resolves true once all are queued, false if the
 * stream stopped meanwhile.
 */
function queueChunks(stream: BodyStreamer, bytes: Buffer, from = 0): true | Promise<boolean> {
  const { frames, maxPayload } = stream.route;
  const credit = stream.credit;
  for (let at = from; at < bytes.length; ) {
    const size = Math.min(bytes.length - at, maxPayload, credit === null ? maxPayload : credit.available);
    if (size <= 0) return untilStopped(credit!.whenAvailable(), stream).then((woken) => woken !== STOPPED && queueChunks(stream, bytes, at));
    const queued = queue(stream, frames.chunk, FrameFlags.NONE, bytes.subarray(at, at + size));
    credit?.take(size);
    at += size;
    if (queued !== true) {
      const next = at;
      return queued.then((ok) => ok && queueChunks(stream, bytes, next));
    }
  }
  return true;
}

/** Waits, when the stream has no credit left, until it has some: before reading more of its source. False if it stopped. */
async function creditToRead(stream: BodyStreamer): Promise<boolean> {
  const credit = stream.credit;
  if (credit === null || credit.available > 0) return !stream.stopped;
  return (await untilStopped(credit.whenAvailable(), stream)) !== STOPPED;
}

/** A stream of chunks: the first frame carries the prefix and the first piece. */
async function streamSource(stream: BodyStreamer, source: AsyncIterable<Uint8Array | string>): Promise<void> {
  const { frames, maxPayload } = stream.route;
  const pieces = slices(source, firstRoom(stream.route, stream.prefix), maxPayload);
  let handedOver = false;
  try {
    // Look one piece ahead: a source that ends after its first piece still goes as one frame.
    const first = await untilStopped(pieces.next(), stream);
    if (first === STOPPED) return;
    const second = first.done ? first : await untilStopped(pieces.next(), stream);
    if (second === STOPPED) return;
    if (second.done) {
      handedOver = await queue(stream, frames.wholeType, frames.wholeFlags | stream.firstFlags, stream.prefix, first.done ? EMPTY : first.value);
      return;
    }
    handedOver = await queue(stream, frames.start, stream.firstFlags, stream.prefix, first.value as Buffer);
    if (!handedOver) return;
    // the first frame always fits the initial window (it is ≥ MIN_STREAM_WINDOW ≥ maxPayload);
    // a header block in its prefix counts as body, as the receiver counts it
    stream.credit?.take(prefixBodyBytes(stream) + (first.value as Buffer).length);
    await streamRest(stream, pieces, second, source);
  } finally {
    if (!handedOver) release(pieces, source);
  }
}

/** Sends `next` and every later piece as chunks, then the end; releases the source if it stops early. */
async function streamRest(
  stream: BodyStreamer,
  pieces: AsyncGenerator<Buffer>,
  next: IteratorResult<Buffer> | typeof STOPPED,
  source: object,
): Promise<void> {
  const { frames } = stream.route;
  let finished = false;
  try {
    while (next !== STOPPED && !next.done) {
      if (stream.credit === null) {
        if (!(await queue(stream, frames.chunk, FrameFlags.NONE, next.value))) return;
      } else if (!(await queueChunks(stream, next.value)) || !(await creditToRead(stream))) return; // read on only with credit
      next = await untilStopped(pieces.next(), stream);
    }
    if (next === STOPPED) return;
    finished = await queue(stream, frames.end, FrameFlags.NONE);
  } finally {
    if (!finished) release(pieces, source);
  }
}

/** Bytes of the stream's prefix that count as body for flow control: what follows its fixed part (a header block). */
function prefixBodyBytes(stream: BodyStreamer): number {
  return Math.max(0, stream.prefix.length - stream.route.frames.fixedPrefix);
}

/** Body bytes the first frame can carry. */
function firstRoom(route: BodyRoute, prefix: Uint8Array): number {
  return route.maxPayload - (route.reserve ?? 0) - prefix.length;
}

/** Stops a source we will read no more of: its iterator returns, and a Readable is destroyed. */
function release(pieces: AsyncGenerator<Buffer>, source: object): void {
  pieces.return(undefined).catch(() => {});
  const destroy = (source as { destroy?: unknown }).destroy;
  if (typeof destroy === "function") destroy.call(source);
}

/** Re-cuts the source's chunks into frame-sized views: the first ≤ firstMax bytes, the rest ≤ max. */
async function* slices(source: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>, firstMax: number, max: number): AsyncGenerator<Buffer> {
  let limit = firstMax;
  for await (const chunk of source) {
    let bytes = toBuffer(chunk);
    while (bytes.length > limit) {
      yield bytes.subarray(0, limit);
      bytes = bytes.subarray(limit);
      limit = max;
    }
    if (bytes.length > 0) {
      yield bytes;
      limit = max;
    }
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new InvalidArgumentError(`a body stream must yield strings or Uint8Arrays, got ${typeof chunk}`);
}

/** `promise`, or STOPPED as soon as the stream stops (a later rejection of `promise` is then ignored). */
function untilStopped<T>(promise: Promise<T>, stream: BodyStreamer): Promise<T | typeof STOPPED> {
  if (stream.stopped) {
    promise.catch(() => {});
    return Promise.resolve(STOPPED);
  }
  return new Promise((resolve, reject) => {
    stream.wake = () => {
      stream.wake = null;
      resolve(STOPPED);
    };
    promise.then(
      (value) => {
        stream.wake = null;
        resolve(value);
      },
      (error) => {
        stream.wake = null;
        reject(error);
      },
    );
  });
}
