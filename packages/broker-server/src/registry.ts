import { type Registration, Role } from "@switchyard/protocol";
import { Channel } from "./channel.js";
import type { Peer } from "./peer.js";

/** The registered connections: by clientId (one connection each) and by channel. */
export class Registry {
  readonly #clients = new Map<string, Peer>();
  readonly #channels = new Map<string, Channel>();
  #consumers = 0;
  #providers = 0;

  get consumers(): number {
    return this.#consumers;
  }

  get providers(): number {
    return this.#providers;
  }

  get channels(): number {
    return this.#channels.size;
  }

  /** Every open channel, in the order they opened. */
  channelValues(): IterableIterator<Channel> {
    return this.#channels.values();
  }

  /** The connection registered with this clientId, if any. */
  client(clientId: Buffer): Peer | undefined {
    return this.#clients.get(clientId.toString("latin1"));
  }

  /** Registers `peer` under `registration`, joining (or opening) its channel. */
  add(peer: Peer, registration: Registration, capacity: number): Channel {
    const key = registration.channelId.toString("latin1");
    let channel = this.#channels.get(key);
    if (channel === undefined) {
      channel = new Channel(key);
      this.#channels.set(key, channel);
    }
    peer.register(registration, channel, capacity);
    this.#clients.set(peer.clientKey, peer);
    if (peer.role === Role.PROVIDER) {
      channel.addProvider(peer);
      this.#providers++;
    } else {
      channel.consumers++;
      this.#consumers++;
    }
    return channel;
  }

  /**
   * Takes a registered peer out of its channel; call `prune` once its requests are settled. False
   * when it was not registered (any more: a takeover removed it already).
   */
  remove(peer: Peer): boolean {
    if (this.#clients.get(peer.clientKey) !== peer) return false;
    this.#clients.delete(peer.clientKey);
    const channel = peer.channel!;
    if (peer.role === Role.PROVIDER) {
      channel.removeProvider(peer);
      this.#providers--;
    } else {
      channel.consumers--;
      this.#consumers--;
    }
    return true;
  }

  /** Forgets `channel` if nothing is left in it, so idle channels cost no memory. */
  prune(channel: Channel): void {
    if (channel.empty && this.#channels.get(channel.key) === channel) this.#channels.delete(channel.key);
  }
}
