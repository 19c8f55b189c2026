import { isIP } from "node:net";
import { idToBytes, InvalidArgumentError } from "@switchyard/protocol";
import { BaseClient, type ClientHooks, type ClientRegistration } from "../client/base-client.js";
import { type ClientOptions, type ClientState, notifyStateChange, type ResolvedClientOptions, resolveClientOptions } from "../client/client-options.js";
import { type ClientStatus, type ClientTransportStats, StatusFeed } from "../client/client-status.js";
import { ConnectError, DisconnectedError } from "../errors.js";
import type { ParsedAddress } from "../options/address.js";
import { MAX_TIMER_MS, numberOption } from "../options/option-checks.js";
import { resolveClientTls } from "../tls/client-tls.js";
import { type BrokerAddress, defaultLookup, type Lookup, parseAddressList, resolveAddressList, tlsFor } from "./address-list.js";
import { rendezvousWeight } from "./rendezvous.js";

/** Default ms between resolutions of a fleet's host names: 30 s (also resolved whenever a broker is lost). */
export const DEFAULT_RESOLVE_INTERVAL = 30_000;

/** Options of a client of a fleet: the shared client options and how often its list is resolved. */
export interface FleetOptions extends ClientOptions {
  /**
   * Ms between resolutions of the address list's host names (a name may stand for several
   * brokers, as a Kubernetes headless Service does); the list is also resolved whenever a broker
   * is lost. Unused when every address is an IP. Default 30 000.
   */
  resolveInterval?: number;
  /**
   * How a host name of the list is resolved to addresses, as `dns.promises.lookup(name, { all:
   * true })` does (the default): for service discovery of one's own, or a test that moves brokers.
   */
  lookup?: Lookup;
}

/** One broker of the fleet and the client's connection to it. */
export interface FleetLink {
  /** The broker's address as dialled ("127.0.0.1:9090", "tls://10.0.0.5:9090"). */
  readonly key: string;
  /** Where and how it is dialled. */
  readonly broker: BrokerAddress;
  /** This client's rendezvous weight for the broker: the live link of highest weight is the one used. */
  readonly weight: number;
  /** Its connection: one of today's clients, reconnecting on its own. */
  client: BaseClient;
  /** Whether it was open at the last look (to notice a loss). */
  open: boolean;
}

/**
 * Who a link registers as: one registration for every link (a consumer), or one per link (a
 * provider, whose capacity differs from broker to broker). BaseClient reads `capacity` at every
 * registration, so a getter may give a reconnect a new value.
 */
export type FleetRegistration = ClientRegistration | ((link: FleetLink) => ClientRegistration);

/**
 * A client's connections to every broker of a fleet: one BaseClient per broker, each with its own
 * reconnect backoff, ranked for this client by rendezvous weight, and the one to use now
 * (`current`: the highest-ranked that is open; a consumer sends there, a provider serves every
 * link). The roles plug in per link through `hooksFor` (whose `onStatus` sees that link's events)
 * and `registration`. The fleet is `open` while any link is; it closes itself once every link has.
 */
export class Fleet {
  /** The resolved options every link shares (one clientId for all). */
  readonly options: ResolvedClientOptions;
  readonly #list: ParsedAddress[];
  readonly #given: FleetOptions;
  readonly #registration: FleetRegistration;
  readonly #hooksFor: (link: FleetLink) => ClientHooks;
  readonly #resolveInterval: number;
  readonly #lookup: Lookup;
  /** Highest weight first. */
  #links: FleetLink[] = [];
  #current: FleetLink | null = null;
  #state: ClientState = "connecting";
  #opened = false;
  #resolving = false;
  #timer: NodeJS.Timeout | null = null;
  #closing: Promise<void> | null = null;
  readonly #status = new StatusFeed();
  /** Counters of links that were replaced or removed. */
  readonly #retired = { reconnects: 0, bytesReceived: 0, bytesSent: 0 };

  /** Throws InvalidArgumentError for a bad address list, channelId or option. Call open() next. */
  constructor(addresses: string | readonly string[], registration: FleetRegistration, hooksFor: (link: FleetLink) => ClientHooks, options: FleetOptions = {}) {
    this.#list = parseAddressList(addresses);
    this.options = resolveClientOptions(options);
    this.#resolveInterval = numberOption("resolveInterval", options.resolveInterval, DEFAULT_RESOLVE_INTERVAL, { min: 1, max: MAX_TIMER_MS });
    if (options.lookup !== undefined && typeof options.lookup !== "function") throw new InvalidArgumentError("lookup must be a function (hostname) => Promise<{ address, family }[]>");
    this.#lookup = options.lookup ?? defaultLookup;
    this.#given = { ...options, clientId: this.options.clientId };
    this.#registration = registration;
    this.#hooksFor = hooksFor;
    // Checked now, as a one-broker client always did: the channel id and the tls option for every entry.
    if (typeof registration !== "function") idToBytes(registration.channelId, "channelId");
    for (const entry of this.#list) resolveClientTls(entry, options.tls);
  }

  /** The link requests go to now: the open link of highest weight; null while none is open. */
  get current(): FleetLink | null {
    return this.#current;
  }

  /** The open link of highest weight other than `other`, or null: where a request refused by `other` goes. */
  next(other: FleetLink): FleetLink | null {
    for (const link of this.#links) if (link !== other && link.client.state === "open") return link;
    return null;
  }

  /** Every link, highest weight first. */
  get links(): readonly FleetLink[] {
    return this.#links;
  }

  /** `open` while any broker is; `connecting` before the first; `reconnecting` while none is. */
  get state(): ClientState {
    return this.#state;
  }

  /** Status events of every link (each names its `server`), then one `closed` for the fleet. */
  status(): AsyncIterableIterator<ClientStatus> {
    return this.#status.iterator();
  }

  /** Resolves once closed: undefined after close(), the reason if it closed itself. */
  closed(): Promise<Error | undefined> {
    return this.#status.closed();
  }

  /** State, the current broker's id, reconnects and bytes each way over every link, now. */
  connectionStats(): ClientTransportStats {
    const totals = { ...this.#retired };
    for (const { client } of this.#links) {
      const stats = client.connectionStats();
      totals.reconnects += stats.reconnects;
      totals.bytesReceived += stats.bytesReceived;
      totals.bytesSent += stats.bytesSent;
    }
    return { state: this.#state, serverId: this.#current?.client.serverId, ...totals };
  }

  /**
   * Resolves the list and connects to every broker; resolves once registered with one. A broker
   * that cannot be reached keeps being dialled in the background. Rejects with the first entry's
   * error (as BaseClient.open() documents) when none can be reached; the fleet is then closed.
   */
  async open(): Promise<void> {
    let brokers: BrokerAddress[];
    try {
      brokers = await resolveAddressList(this.#list, this.#lookup);
    } catch (error) {
      throw this.#failed(new ConnectError(`could not resolve the broker addresses: ${(error as Error).message}`, { cause: error }));
    }
    const links = brokers.map((broker) => this.#addLink(broker));
    const late: FleetLink[] = [];
    const errors: Error[] = [];
    const attempts = links.map(async (link, index) => {
      try {
        await link.client.open();
      } catch (error) {
        errors[index] = error as Error;
        if (this.#opened) this.#retry(link);
        else late.push(link);
        throw error;
      }
    });
    try {
      await Promise.any(attempts);
    } catch {
      throw this.#failed(errors.find((error) => error !== undefined)!);
    }
    this.#opened = true;
    for (const link of late) this.#retry(link);
    this.#update();
    if (this.#list.some((entry) => isIP(entry.host) === 0)) {
      this.#timer = setInterval(() => void this.#resolve(), this.#resolveInterval);
      this.#timer.unref();
    }
  }

  /** Closes every link (each waits for its work, as BaseClient.close() does). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#stopTimer();
    this.#setState("closing", undefined);
    await Promise.all(this.#links.map((link) => link.client.close()));
    this.#setState("closed", undefined);
    this.#status.publish({ type: "closed", error: undefined });
  }

  /** Open failed: every link closes, the fleet is closed, the error is returned to throw. */
  #failed(error: Error): Error {
    for (const link of this.#links) void link.client.close();
    this.#setState("closed", error);
    this.#status.publish({ type: "closed", error });
    return error;
  }

  #addLink(broker: BrokerAddress): FleetLink {
    const link: FleetLink = { key: broker.key, broker, weight: rendezvousWeight(this.options.clientId, broker.key), client: null as unknown as BaseClient, open: false };
    link.client = this.#clientFor(link, broker, this.#opened ? undefined : this.options.signal);
    this.#links.push(link);
    this.#links.sort((a, b) => b.weight - a.weight);
    return link;
  }

  #clientFor(link: FleetLink, broker: BrokerAddress, signal: AbortSignal | undefined): BaseClient {
    const roleHooks = this.#hooksFor(link);
    const onStatus = (event: ClientStatus): void => {
      roleHooks.onStatus?.(event);
      if (event.type !== "closed") this.#status.publish(event); // the fleet's own "closed" comes once, at its end
    };
    const hooks: ClientHooks = { ...roleHooks, onStatus };
    const registration = typeof this.#registration === "function" ? this.#registration(link) : this.#registration;
    const client = new BaseClient(broker.address, registration, hooks, {
      ...this.#given,
      tls: tlsFor(broker, this.#given.tls),
      signal,
      onStateChange: (_state, error) => this.#update(error),
    });
    return client;
  }

  /** A link whose first connect failed: a new client for it that keeps dialling in the background. */
  #retry(link: FleetLink): void {
    if (this.#closing !== null || !this.#links.includes(link)) return;
    this.#retire(link.client);
    link.client = this.#clientFor(link, link.broker, undefined);
    link.client.openInBackground();
  }

  /**
   * A link changed state (`error`: why, if it was lost or closed): choose the current link again,
   * notice losses, follow the fleet's state — with one broker, exactly that broker's.
   */
  #update(error?: Error): void {
    if (this.#state === "closing" || this.#state === "closed") return;
    let current: FleetLink | null = null;
    let lost = false;
    let alive = false;
    for (const link of this.#links) {
      const state = link.client.state;
      const open = state === "open";
      if (open && current === null) current = link;
      if (link.open && !open) lost = true;
      link.open = open;
      if (state !== "closed") alive = true;
    }
    this.#current = current;
    if (!this.#opened) return;
    if (current !== null) this.#setState("open", undefined);
    else if (alive) this.#setState("reconnecting", error ?? new DisconnectedError("lost every broker; reconnecting"));
    else {
      const reason = error ?? new DisconnectedError("lost every broker, and none is being reconnected");
      this.#stopTimer();
      this.#setState("closed", reason);
      this.#status.publish({ type: "closed", error: reason });
      return;
    }
    if (lost && this.#timer !== null) void this.#resolve();
  }

  /** Resolves the list again: brokers that appeared are added (dialled in the background), those gone are closed. */
  async #resolve(): Promise<void> {
    if (this.#resolving) return;
    this.#resolving = true;
    try {
      const brokers = await resolveAddressList(this.#list, this.#lookup);
      if (this.#closing !== null || this.#state === "closed") return;
      const keys = new Set(brokers.map((broker) => broker.key));
      for (const broker of brokers) {
        if (!this.#links.some((link) => link.key === broker.key)) this.#addLink(broker).client.openInBackground();
      }
      for (const link of this.#links.filter((each) => !keys.has(each.key))) {
        this.#links.splice(this.#links.indexOf(link), 1);
        void link.client.close().then(() => this.#retire(link.client));
      }
      this.#update();
    } catch (error) {
      this.options.logger.warn({ error: (error as Error).message }, "could not resolve the broker addresses again; keeping the brokers known");
    } finally {
      this.#resolving = false;
    }
  }

  #retire(client: BaseClient): void {
    const stats = client.connectionStats();
    this.#retired.reconnects += stats.reconnects;
    this.#retired.bytesReceived += stats.bytesReceived;
    this.#retired.bytesSent += stats.bytesSent;
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #setState(state: ClientState, error: Error | undefined): void {
    if (this.#state === state) return;
    this.#state = state;
    notifyStateChange(this.options, state, error);
  }
}
