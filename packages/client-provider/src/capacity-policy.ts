/** Rebalances a connection's recent peak is taken over: the current interval and the four before (about 100 ms under load). */
export const USE_MEMORY = 5;

/**
 * How a provider attached to several brokers spreads its `concurrency` over its connections as
 * demand moves (NSQ's RDY redistribution is the model). Pure bookkeeping: the provider tells it
 * what happens (a connection registered or was lost, its requests in flight) and sends the
 * CAPACITY frames (docs/protocol.md §1.20) for the changes rebalance() returns.
 *
 * The rules, with C the provider's concurrency:
 *
 * - Every open connection announces at least 1, so no broker holds its requests waiting for a
 *   provider that paused there because capacity moved away (the provider cannot see a broker's
 *   queue): a request arriving on a connection is what shows demand on it. At most C.
 * - The other C − 1 slots ("extras") are what moves: the extras of all connections add up to at
 *   most C − 1. So the brokers together may route C + (connections − 1) requests at once, and the
 *   provider's own bound on work running (its handlers, or the requests handed out by requests())
 *   holds the hard limit C: the few beyond it wait at the provider, as docs/protocol.md §1.7 allows.
 *   One connection alone can therefore reach C while each other keeps 1.
 * - A connection registers with 1 plus its fair share of the extras (C − 1 over the brokers
 *   known), at most what no open connection holds. Overlapping registrations may overshoot the
 *   C − 1 for a moment; the next rebalance takes the overshoot back from idle connections.
 * - A connection is **busy** when its requests in flight reached its capacity since the last
 *   rebalance (its peak). Rebalancing gives every busy connection up to as much again (doubling,
 *   so a ramp from a fair share to C takes a step or two), first from extras nobody holds, then
 *   from the idle part of connections that are not busy — their capacity above their recent peak
 *   plus one, never below 1. Nothing moves while no connection is busy (and nothing is overshot).
 * - A connection's **recent peak** is the most it had in flight over the last USE_MEMORY
 *   rebalances, not the last one only. The provider sees less than the broker: a request counts at
 *   the broker from its dispatch until its response is read, here only while it is handled, so in
 *   one rebalance interval a connection its broker keeps full can look half idle. Judged by that
 *   one interval, a fully used connection gave capacity away, its broker queued requests, it turned
 *   busy and took the capacity back: with two brokers' demand just filling the concurrency, capacity
 *   swung between them (50/50, 73/28, 39/62) and requests waited at one broker while the other's
 *   capacity idled. Over USE_MEMORY intervals the peak comes close to what the broker holds.
 * - A connection registered on protocol 1.0 cannot be told a new capacity: it keeps the capacity it
 *   registered with, counted but never moved.
 */
export class CapacityPolicy<Link> {
  /** The provider's concurrency: the most one connection may announce. */
  readonly concurrency: number;
  /** The open connections: what they announced and how loaded they are. */
  readonly #links = new Map<Link, LinkCapacity>();

  /** `concurrency` ≥ 1. */
  constructor(concurrency: number) {
    this.concurrency = concurrency;
  }

  /**
   * The capacity to register a connection with, `known` brokers being in the fleet (open or not):
   * 1 plus a fair share of the extras, at most what no open connection holds.
   */
  registrationCapacity(known: number): number {
    const fair = Math.floor((this.concurrency - 1) / Math.max(1, known));
    return 1 + Math.max(0, Math.min(fair, this.#freeExtras()));
  }

  /** A connection registered with `capacity`; `adjustable`: it negotiated 1.1 and may be sent CAPACITY. */
  opened(link: Link, capacity: number, adjustable: boolean): void {
    this.#links.set(link, { capacity, inFlight: 0, peak: 0, earlierPeaks: [], adjustable });
  }

  /** A connection was lost or closed: its extras are free for the others. */
  closed(link: Link): void {
    this.#links.delete(link);
  }

  /** What the broker of `link` was last told it may route to this provider at once; undefined while it is not open. */
  capacityOf(link: Link): number | undefined {
    return this.#links.get(link)?.capacity;
  }

  /** The open connections. */
  get size(): number {
    return this.#links.size;
  }

  /**
   * The requests in flight on `link` changed to `inFlight`. True when the connection is now busy
   * and could grow: the caller schedules a rebalance.
   */
  observe(link: Link, inFlight: number): boolean {
    const entry = this.#links.get(link);
    if (entry === undefined) return false;
    entry.inFlight = inFlight;
    if (inFlight > entry.peak) entry.peak = inFlight;
    return entry.adjustable && inFlight >= entry.capacity && entry.capacity < this.concurrency && this.#links.size > 1;
  }

  /**
   * Moves capacity by the rules in the class comment and starts a new observation window (every
   * peak becomes the connection's requests in flight now). Returns the connections whose capacity
   * changed, with their new capacity, for the caller to announce.
   */
  rebalance(): Array<[Link, number]> {
    const before = new Map<Link, number>();
    for (const [link, entry] of this.#links) before.set(link, entry.capacity);
    const busy = [...this.#links.values()].filter((entry) => entry.adjustable && entry.peak >= entry.capacity && entry.capacity < this.concurrency);
    const wants = busy.map((entry) => Math.min(this.concurrency - entry.capacity, entry.capacity));
    const wanted = wants.reduce((sum, want) => sum + want, 0);
    const overshoot = Math.max(0, -this.#freeExtras());
    if (wanted + overshoot > 0) {
      let supply = Math.max(0, Math.min(this.#freeExtras(), wanted));
      let needed = wanted + overshoot - supply;
      // The idle part of connections that are not busy, the largest first.
      const donors = [...this.#links.values()].filter((entry) => entry.adjustable && !busy.includes(entry)).sort((a, b) => spare(b) - spare(a));
      for (const donor of donors) {
        if (needed === 0) break;
        const take = Math.min(spare(donor), needed);
        donor.capacity -= take;
        needed -= take;
        supply += take;
      }
      supply = Math.max(0, supply - overshoot);
      // Shared in proportion to what each wants; what rounding leaves goes one by one.
      const given = wants.map((want) => (wanted === 0 ? 0 : Math.floor((supply * want) / wanted)));
      let left = supply - given.reduce((sum, each) => sum + each, 0);
      for (let i = 0; left > 0 && i < given.length; i++) {
        if (given[i]! < wants[i]!) {
          given[i]!++;
          left--;
        }
      }
      busy.forEach((entry, i) => {
        entry.capacity += given[i]!;
      });
    }
    const changed: Array<[Link, number]> = [];
    for (const [link, entry] of this.#links) {
      entry.earlierPeaks.unshift(entry.peak);
      if (entry.earlierPeaks.length >= USE_MEMORY) entry.earlierPeaks.pop();
      entry.peak = entry.inFlight;
      if (entry.capacity !== before.get(link)) changed.push([link, entry.capacity]);
    }
    return changed;
  }

  /** Extras (capacity above 1) no open connection holds; negative while registrations overshot. */
  #freeExtras(): number {
    let held = 0;
    for (const entry of this.#links.values()) held += entry.capacity - 1;
    return this.concurrency - 1 - held;
  }
}

/** One open connection as the policy sees it. */
interface LinkCapacity {
  /** What its broker was last told (registration or CAPACITY). */
  capacity: number;
  /** Requests in flight on it now (as the provider counts them). */
  inFlight: number;
  /** The most in flight since the last rebalance. */
  peak: number;
  /** The peaks of the intervals before, the latest first: USE_MEMORY − 1 at most. */
  earlierPeaks: number[];
  /** It negotiated 1.1: CAPACITY may change its capacity. */
  adjustable: boolean;
}

/** What a connection that is not busy can give: its capacity above its recent peak plus one, never below 1. */
function spare(entry: LinkCapacity): number {
  return Math.max(0, entry.capacity - Math.max(1, Math.max(entry.peak, ...entry.earlierPeaks) + 1));
}
