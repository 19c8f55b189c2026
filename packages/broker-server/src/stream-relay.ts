import { type ConnectionContext, type InboundWindow, OutboundCredit, STREAM_HIGH_WATER } from "@switchyard/transport/internal";

/** Body bytes the broker holds for flow-controlled streams, all streams together (BrokerStats.streamHeldBytes). */
export interface HeldTally {
  bytes: number;
}

/**
 * One direction of one streamed body through the broker, flow-controlled hop by hop
 * (docs/protocol.md §1.20): what the sender may still send (`inbound`, the broker's window toward
 * it, granted back only as bytes are forwarded), what the receiver lets the broker send
 * (`outbound`), and the bytes in between.
 *
 *   sender ──received()──► [ pending … ] ──take()──► receiver       take() cuts to the receiver's credit
 *     ▲                                       │
 *     └──────── CREDIT (inbound.consumed) ◄───┘                      so pending ≤ one window per stream
 *
 * A sender that speaks 1.0 has no inbound window (it cannot be slowed: the broker's size limits
 * bound it instead); a receiver that speaks 1.0 has UNLIMITED credit, and then the stream is
 * `paced`: it forwards only while that connection holds less than STREAM_HIGH_WATER bytes, and
 * waits for its drain beyond — today's pacing, so a 1.1 sender is still stopped by the socket.
 */
export class StreamRelay {
  /** The broker's window toward a 1.1 sender; null for a 1.0 sender. */
  readonly inbound: InboundWindow | null;
  /** Credit toward the receiver; null until the receiver is known (a request waiting in the queue). */
  outbound: OutboundCredit | null = null;
  /** The receiver's connection, set with `outbound`. */
  receiver: ConnectionContext | null = null;
  /** The receiver speaks 1.0: forward only as its socket drains. */
  paced = false;
  /** The sender's END arrived (end()): the receiver gets its end once `pending` is empty. */
  ended = false;
  /** Set while a drain of a paced receiver is awaited (one wait per stream). */
  awaitingDrain = false;
  /** Bytes received, not yet forwarded, in order; each the broker's own (never a view of a socket read). */
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #tally: HeldTally;

  constructor(inbound: InboundWindow | null, tally: HeldTally) {
    this.inbound = inbound;
    this.#tally = tally;
  }

  /** The receiver is known: its credit (its window, or UNLIMITED for a 1.0 receiver) and connection. */
  attach(receiver: ConnectionContext, receiverWindow: number | null): void {
    this.receiver = receiver;
    this.outbound = new OutboundCredit(receiverWindow ?? OutboundCredit.UNLIMITED);
    this.paced = receiverWindow === null;
  }

  /** Bytes waiting to be forwarded. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** True when `bytes` may go to the receiver at once, ahead of nothing: nothing pending, credit for all, room on a paced socket. */
  canForward(bytes: number): boolean {
    return this.#pendingBytes === 0 && this.outbound !== null && this.outbound.available >= bytes && this.#socketHasRoom();
  }

  /** `bytes` went to the receiver: take them from its credit and let the sender have as much again. */
  forwarded(bytes: number): void {
    this.outbound!.take(bytes);
    this.inbound?.consumed(bytes);
  }

  /** Keeps bytes to forward later; a view into a socket read is copied (it would pin the whole read). */
  hold(payload: Buffer): void {
    if (payload.length === 0) return;
    this.#pending.push(payload.byteLength === payload.buffer.byteLength ? payload : Buffer.from(payload));
    this.#pendingBytes += payload.length;
    this.#tally.bytes += payload.length;
  }

  /**
   * The next piece that may be forwarded now — the oldest pending bytes, cut to the receiver's
   * credit — already counted as forwarded; null when nothing pending, no credit, or a paced
   * receiver's socket is full (see `awaitingDrain`).
   */
  take(): Buffer | null {
    if (this.#pendingBytes === 0 || this.outbound === null || !this.#socketHasRoom()) return null;
    const room = this.outbound.available;
    if (room <= 0) return null;
    const head = this.#pending[0]!;
    let piece = head;
    if (head.length <= room) this.#pending.shift();
    else {
      piece = head.subarray(0, room);
      this.#pending[0] = head.subarray(room);
    }
    this.#pendingBytes -= piece.length;
    this.#tally.bytes -= piece.length;
    this.forwarded(piece.length);
    return piece;
  }

  /** True when a paced receiver's socket is full, so the stream should await its drain. */
  get blockedBySocket(): boolean {
    return this.paced && this.#pendingBytes > 0 && !this.#socketHasRoom();
  }

  /** The sender's END arrived: no more credit is granted it, and the receiver gets its end after what is pending. */
  end(): void {
    this.ended = true;
    this.inbound?.end();
  }

  /** The stream is over: what is pending is dropped, no more credit is granted. */
  discard(): void {
    this.#tally.bytes -= this.#pendingBytes;
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.inbound?.end();
    this.outbound?.release();
  }

  #socketHasRoom(): boolean {
    if (!this.paced) return true;
    const receiver = this.receiver!;
    return !receiver.blocked && receiver.queuedBytes < STREAM_HIGH_WATER;
  }
}
