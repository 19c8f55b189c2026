import type { Peer } from "./peer.js";
import { LinkedQueue } from "@switchyard/transport";
import type { BrokerRequest } from "./broker-request.js";

/** One channel: its providers, how many consumers it has, and its requests waiting for capacity. */
export class Channel {
  /** The channel's id as latin1: its key in the registry. */
  readonly key: string;
  readonly providers: Peer[] = [];
  consumers = 0;
  /** Requests waiting for capacity. Non-empty only while every provider is at capacity. */
  readonly waiting = new LinkedQueue<BrokerRequest>();
  /** Round-robin cursor: where the next search for a provider starts. */
  #cursor = 0;

  constructor(key: string) {
    this.key = key;
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
