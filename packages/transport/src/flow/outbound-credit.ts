import { MAX_WINDOW } from "@switchyard/protocol";

/**
 * What a stream's sender may still send of one body (docs/protocol.md §1.20): the receiver's
 * initial window, plus every CREDIT it granted since, less the body bytes already sent.
 *
 *   initial window ─┐          take(n) ──► available − n   (never below 0: the sender waits first)
 *   grant(k) ───────┴──► available ──► whenAvailable() resolves once it is above 0
 *
 * A peer that speaks 1.0 grants nothing: its streams' credit is `UNLIMITED` (Infinity), and then
 * only the socket paces the sender, as before flow control.
 */
export class OutboundCredit {
  /** The credit of a stream to a peer without flow control (protocol 1.0). */
  static readonly UNLIMITED = Number.POSITIVE_INFINITY;
  #available: number;
  #wake: (() => void) | null = null;

  /** `initial`: the receiver's initial stream window, bytes (or UNLIMITED). */
  constructor(initial: number) {
    this.#available = initial;
  }

  /** Body bytes that may be sent now. */
  get available(): number {
    return this.#available;
  }

  /**
   * A CREDIT of `increment` bytes arrived. False (and nothing added) when it takes the credit past
   * MAX_WINDOW: the receiver broke flow control, a FLOW_CONTROL_ERROR of this stream.
   */
  grant(increment: number): boolean {
    if (this.#available + increment > MAX_WINDOW) return false;
    this.#available += increment;
    if (this.#available > 0) this.#release();
    return true;
  }

  /** `bytes` of the body were sent (the caller checked they were available). */
  take(bytes: number): void {
    this.#available -= bytes;
  }

  /** Resolves once some credit is available (at once if some is), or when release() is called. */
  whenAvailable(): Promise<void> {
    if (this.#available > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#wake;
      this.#wake = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Wakes whoever waits in whenAvailable(): the stream stopped, or credit came. */
  #release(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** The stream ended elsewhere: a waiter is let go (it finds the stream stopped). */
  release(): void {
    this.#release();
  }
}
