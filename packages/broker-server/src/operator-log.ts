import { decodeRegistration, type Frame, idToString } from "@switchyard/protocol";
import type { BrokerLogger } from "./logger.js";
import type { Peer } from "./peer.js";

/** Default window of the operator log's rate limit: 10 s. */
export const DEFAULT_OPERATOR_LOG_WINDOW_MS = 10_000;

/** One kind of line in its current window. */
interface Window {
  /** Lines of this kind not written since the window opened. */
  suppressed: number;
  timer: NodeJS.Timeout;
}

/** Groups digits by thousands with a space, as an operator reads them: 4812 → "4 812". */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** Client name, id and channel a refused registration claimed, or nothing when it cannot be read. */
function claimedIdentity(frame: Frame): Record<string, unknown> {
  try {
    const registration = decodeRegistration(frame.payload);
    return {
      clientId: idToString(registration.clientId),
      channel: idToString(registration.channelId),
      ...(registration.clientName === undefined ? {} : { clientName: registration.clientName }),
    };
  } catch {
    return {};
  }
}

/**
 * The warn-level lines an operator acts on: refused registrations, connections closed as slow,
 * idle or for a protocol violation, OVERLOADED refusals. Each names the remote address, client
 * name and channel. Rate-limited per kind (the message plus the code): the first line of a kind is
 * written at once, the rest of its window only counted, and when the window ends one line says
 * "… and N more in the last 10 s"; a flood costs one line per kind per window.
 */
export class OperatorLog {
  readonly #logger: BrokerLogger;
  readonly #windowMs: number;
  readonly #windows = new Map<string, Window>();

  constructor(logger: BrokerLogger, windowMs: number = DEFAULT_OPERATOR_LOG_WINDOW_MS) {
    this.#logger = logger;
    this.#windowMs = windowMs;
  }

  /**
   * A registration was refused (UNAUTHORIZED, DUPLICATE_CLIENT, BAD_REGISTRATION, …). `frame` is
   * the refused registration: who it claimed to be is logged when it can be read.
   */
  registrationRefused(peer: Peer, code: string, reason: string, frame?: Frame): void {
    this.#warn(peer, code, reason, "registration refused", frame === undefined ? undefined : () => claimedIdentity(frame));
  }

  /** A connection was closed by the broker: SLOW_PEER, IDLE_TIMEOUT or PROTOCOL_ERROR. */
  connectionClosed(peer: Peer, code: string, reason: string): void {
    const what = code === "SLOW_PEER" ? "closed a slow peer" : code === "IDLE_TIMEOUT" ? "closed an idle connection" : "closed a connection for a protocol violation";
    this.#warn(peer, code, reason, what);
  }

  /** A consumer's request was refused or aborted with OVERLOADED. */
  overloaded(consumer: Peer): void {
    this.#warn(consumer, "OVERLOADED", "a bounded queue was full", "request refused with OVERLOADED");
  }

  /** Writes what is still counted and stops the timers (the broker stopped). */
  close(): void {
    for (const [key, window] of this.#windows) {
      clearTimeout(window.timer);
      this.#summarise(key, window);
    }
    this.#windows.clear();
  }

  #warn(peer: Peer, code: string, reason: string, message: string, extra?: () => Record<string, unknown>): void {
    const key = `${message}\u0000${code}`;
    const window = this.#windows.get(key);
    if (window !== undefined) {
      window.suppressed++;
      return;
    }
    this.#logger.warn({ ...peer.describe(), ...extra?.(), code, reason }, message);
    this.#open(key);
  }

  #open(key: string): void {
    const window: Window = { suppressed: 0, timer: setTimeout(() => this.#windowEnded(key, window), this.#windowMs) };
    window.timer.unref();
    this.#windows.set(key, window);
  }

  /** A window ended: say how many were left out; keep limiting while the kind keeps coming. */
  #windowEnded(key: string, window: Window): void {
    this.#windows.delete(key);
    if (window.suppressed === 0) return;
    this.#summarise(key, window);
    this.#open(key);
  }

  #summarise(key: string, window: Window): void {
    if (window.suppressed === 0) return;
    const [message, code] = key.split("\u0000") as [string, string];
    const seconds = Math.round(this.#windowMs / 1000);
    this.#logger.warn({ code, more: window.suppressed }, `${message} (${code}) … and ${grouped(window.suppressed)} more in the last ${seconds} s`);
  }
}
