import { MIN_STREAM_WINDOW } from "@switchyard/protocol";

/**
 * The receiving end of one flow-controlled body (docs/protocol.md §1.20): it checks the sender
 * stays within the credit given, and gives more as the bytes are consumed — by a reader, or by
 * being forwarded on — never before.
 *
 *   granted so far ──────────────────────────────────────────────┐
 *   [ consumed, granted again │ consumed, not yet granted │ held │ credit the sender has left ]
 *                                           └── ≥ window/2 ──► grant(n): one CREDIT of n bytes
 *
 * Credit goes back in batches of at least half the window, so a body that fits the initial
 * window costs no CREDIT at all, and a long one one CREDIT per half window. Nothing is granted once
 * the body has ended (`end()`): a sender whose body is complete has no use for credit.
 */
export class InboundWindow {
  readonly #window: number;
  readonly #grant: (increment: number) => void;
  /** Credit the sender has left: bytes it may still send. */
  #credit: number;
  /** Bytes consumed since the last grant. */
  #consumed = 0;
  #ended = false;

  /**
   * `window`: the initial window announced for this stream, bytes (≥ MIN_STREAM_WINDOW);
   * `grant(increment)` sends the sender a CREDIT (it is called synchronously from consumed()).
   */
  constructor(window: number, grant: (increment: number) => void) {
    this.#window = Math.max(window, MIN_STREAM_WINDOW);
    this.#credit = this.#window;
    this.#grant = grant;
  }

  /** Credit the sender has left, bytes. */
  get credit(): number {
    return this.#credit;
  }

  /** Bytes received and not yet consumed: what the receiver holds for this stream. */
  get held(): number {
    return this.#window - this.#credit - this.#consumed;
  }

  /**
   * `bytes` of the body arrived. False when they go past the credit the sender had: it broke flow
   * control (a FLOW_CONTROL_ERROR of this stream); nothing is counted then.
   */
  received(bytes: number): boolean {
    if (bytes > this.#credit) return false;
    this.#credit -= bytes;
    return true;
  }

  /**
   * `bytes` received earlier were consumed (read, or forwarded on): once half a window or more is
   * consumed unannounced, and the body has not ended, the sender is granted that much.
   */
  consumed(bytes: number): void {
    this.#consumed += bytes;
    if (this.#ended || this.#consumed < this.#window / 2) return;
    const increment = this.#consumed;
    this.#consumed = 0;
    this.#credit += increment;
    this.#grant(increment);
  }

  /** The body ended (its last frame arrived, or the exchange ended): no more credit is granted. */
  end(): void {
    this.#ended = true;
  }
}
