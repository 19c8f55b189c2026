import type { Socket } from "node:net";

/** How often, as a fraction of the timeout, the watch looks at the socket: an idle peer is closed at most 1/8 late. */
const CHECKS_PER_TIMEOUT = 8;

/** What a ReadWatch tells its owner. */
export interface ReadWatchHandlers {
  /** Nothing received for half the timeout: once per silence (the owner may PING a peer it waits for). */
  onQuiet?(): void;
  /** Nothing received for the whole timeout. Called once; the watch has stopped. */
  onIdle(silentMs: number): void;
  /**
   * Whether the owner waits for its peer now (anet: requests in flight). While it says no, silence
   * does not count: the watch starts it over at each check, and the first check that finds a reply
   * awaited starts it then, so the peer always has the whole timeout to answer. Default: always.
   */
  awaitingReply?(): boolean;
}

/**
 * Measures how long a socket has received nothing — only reads count, never our own writes (Node's
 * socket.setTimeout counts both, so a peer we keep writing to would never look idle).
 *
 *   last byte received ── timeout/2 ──► onQuiet() ── timeout/2 ──► onIdle()
 *         ▲                                  │
 *         └──── any byte received ◄──────────┘  (the silence starts over)
 *
 * It samples `socket.bytesRead` on a timer every timeout/8, so the read path does nothing for it.
 * A byte is noticed at the first check after it arrived, so a silence is never over-counted: the
 * peer is closed after at least `timeoutMs` without a byte and at most `timeoutMs` + timeout/8.
 */
export class ReadWatch {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #handlers: ReadWatchHandlers;
  readonly #timer: NodeJS.Timeout;
  #bytesRead: number;
  #heardAt: number;
  #quiet = false;
  /** The last check found a reply awaited (always true without awaitingReply). */
  #awaiting: boolean;

  /** Starts watching at once; `timeoutMs` > 0. */
  constructor(socket: Socket, timeoutMs: number, handlers: ReadWatchHandlers) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#handlers = handlers;
    this.#awaiting = handlers.awaitingReply === undefined;
    this.#bytesRead = socket.bytesRead;
    this.#heardAt = performance.now();
    this.#timer = setInterval(() => this.#check(), Math.max(1, Math.floor(timeoutMs / CHECKS_PER_TIMEOUT)));
    // the socket keeps the process alive while it is open; this timer alone must not
    this.#timer.unref();
  }

  /** performance.now() ms of the check that last saw new bytes (or of the start). */
  get heardAt(): number {
    return this.#heardAt;
  }

  /** Stops watching. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    const bytesRead = this.#socket.bytesRead;
    const now = performance.now();
    if (bytesRead !== this.#bytesRead) {
      this.#bytesRead = bytesRead;
      this.#heardAt = now;
      this.#quiet = false;
      return;
    }
    if (this.#handlers.awaitingReply !== undefined) {
      const awaiting = this.#handlers.awaitingReply();
      if (!awaiting || !this.#awaiting) {
        // nothing awaited, or just now awaited: the silence starts over at this check
        this.#awaiting = awaiting;
        this.#heardAt = now;
        this.#quiet = false;
        return;
      }
    }
    const silentMs = now - this.#heardAt;
    if (silentMs >= this.#timeoutMs) {
      this.stop();
      this.#handlers.onIdle(silentMs);
    } else if (!this.#quiet && silentMs >= this.#timeoutMs / 2) {
      this.#quiet = true;
      this.#handlers.onQuiet?.();
    }
  }
}
