import type { Peer } from "./peer.js";
import { idToString, type WireErrorCode } from "@switchyard/protocol";
import { LinkedQueue } from "@switchyard/transport/internal";
import type { BrokerRequest } from "./broker-request.js";
import { LatencyHistogram } from "./latency-histogram.js";

/** One channel: its providers, how many consumers it has, and its requests waiting for capacity. */
export class Channel {
  /** The channel's id as latin1: its key in the registry. */
  readonly key: string;
  readonly providers: Peer[] = [];
  consumers = 0;
  /** Requests waiting for capacity. Non-empty only while every provider is at capacity. */
  readonly waiting = new LinkedQueue<BrokerRequest>();
  /** Requests accepted on this channel since it opened. */
  requests = 0;
  /** ERRORs the broker sent this channel's consumers, by code (only codes that occurred). */
  readonly errors: Partial<Record<WireErrorCode, number>> = {};
  /** Durations of completed requests, filled only while the broker is monitored. */
  readonly latency = new LatencyHistogram();
  #id: string | null = null;
  /** Round-robin cursor: where the next search for a provider starts. */
  #cursor = 0;

  constructor(key: string) {
    this.key = key;
  }

  /** The channel's id as a UUID string (for logs and the monitor). */
  get id(): string {
    this.#id ??= idToString(Buffer.from(this.key, "latin1"));
    return this.#id;
  }

  /** Counts an ERROR the broker sent one of this channel's consumers. */
  countError(code: WireErrorCode): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** No members and nothing waiting: the registry may forget the channel. */
  get empty(): boolean {
    return this.providers.length === 0 && this.consumers === 0 && this.waiting.size === 0;
  }

  /**
   * The provider with the fewest requests in flight that is below its capacity, or null when all
   * are full (or there are none). Ties go round-robin: the search starts after the last pick and
   * keeps the first of equals, so equally loaded providers take turns.
   */
  pickProvider(): Peer | null {
    const providers = this.providers;
    const count = providers.length;
    let best: Peer | null = null;
    let bestIndex = 0;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let i = 0, index = this.#cursor; i < count; i++, index++) {
      if (index >= count) index = 0;
      const provider = providers[index]!;
      const load = provider.inFlight.size;
      if (load < bestLoad && load < provider.capacity) {
        best = provider;
        bestIndex = index;
        bestLoad = load;
        if (load === 0) break; // nobody is less loaded than idle
      }
    }
    if (best !== null) this.#cursor = bestIndex + 1 >= count ? 0 : bestIndex + 1;
    return best;
  }

  addProvider(provider: Peer): void {
    this.providers.push(provider);
  }

  removeProvider(provider: Peer): void {
    const index = this.providers.indexOf(provider);
    if (index < 0) return;
    this.providers.splice(index, 1);
    if (this.#cursor > index) this.#cursor--;
    if (this.#cursor >= this.providers.length) this.#cursor = 0;
  }
}
