import { randomBytes } from "node:crypto";
import type { Consumer } from "@switchyard/client-consumer";

/** Deadline of every send of the fleet load, ms. */
export const SEND_TIMEOUT_MS = 5000;
/** How late after its deadline a send may settle and still count as settled in time, ms. */
export const SETTLE_SLACK_MS = 1000;

/** Bodies the load sends: mostly small, every 16th of 256 KiB, so big frames are in flight when a broker dies. */
const BODIES = [64, 1024, 4096, 256 * 1024].map((size) => randomBytes(size));

/** One send and what became of it. */
export interface FleetSend {
  /** Index of the consumer that sent it. */
  consumer: number;
  /** performance.now() when send() was called. */
  startedAt: number;
  /** performance.now() when it settled; null while in flight. */
  settledAt: number | null;
  /** How many times it settled: exactly 1 once done. */
  settlements: number;
  idempotent: boolean;
  /** The answer was not the body sent (an echo must be byte-exact). */
  wrong: boolean;
  /** Its error code, if it failed. */
  code: string | null;
}

/** Closed-loop load on a set of consumers: `inflight` sends kept going through each, until stop(). */
export class FleetLoad {
  readonly sends: FleetSend[] = [];
  #running = true;
  readonly #workers: Promise<void>[];
  #seq = 0;

  /** Every `idempotentEvery`-th send is sent with `idempotent: true` (retried once on another broker if its own is lost). */
  constructor(consumers: readonly Consumer[], inflight: number, idempotentEvery = 4) {
    this.#workers = consumers.flatMap((consumer, index) => Array.from({ length: inflight }, () => this.#worker(consumer, index, idempotentEvery)));
  }

  async #worker(consumer: Consumer, index: number, idempotentEvery: number): Promise<void> {
    while (this.#running) {
      const seq = this.#seq++;
      const body = BODIES[seq % 16 === 0 ? 3 : seq % 3]!;
      const send: FleetSend = { consumer: index, startedAt: performance.now(), settledAt: null, settlements: 0, idempotent: seq % idempotentEvery === 0, wrong: false, code: null };
      this.sends.push(send);
      try {
        const answer = await consumer.send(body, { timeout: SEND_TIMEOUT_MS, idempotent: send.idempotent });
        send.wrong = !answer.equals(body);
      } catch (error) {
        send.code = String((error as { code?: unknown }).code ?? (error as Error).name);
        // A failing loop must not spin: the next send waits a tick.
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        send.settlements++;
        send.settledAt ??= performance.now();
      }
    }
  }

  /** Stops sending and waits for what is in flight, at most its deadline plus the slack: resolves with the sends still unsettled. */
  async stop(): Promise<number> {
    this.#running = false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SEND_TIMEOUT_MS + SETTLE_SLACK_MS);
    });
    await Promise.race([Promise.all(this.#workers), late]);
    clearTimeout(timer);
    return this.sends.filter((send) => send.settlements === 0).length;
  }

  /** Sends since `from` (performance.now()): sent, answered, failures by code. */
  counts(from = 0): { sent: number; answered: number; failed: Record<string, number> } {
    const failed: Record<string, number> = {};
    let sent = 0;
    let answered = 0;
    for (const send of this.sends) {
      if (send.startedAt < from) continue;
      sent++;
      if (send.code === null && send.settlements > 0) answered++;
      else if (send.code !== null) failed[send.code] = (failed[send.code] ?? 0) + 1;
    }
    return { sent, answered, failed };
  }
}
