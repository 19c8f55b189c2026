import { isIPv6 } from "node:net";

/**
 * The connections that have not registered yet: each has a deadline to register by, and each
 * remote address may hold only so many of them, so that sockets which never register (a slowloris
 * trickling a byte a second, or a flood of bare connects) cannot take the whole connection limit.
 *
 *   accept ──► hasRoom(address)? ──no──► closed at once (counted as refused)
 *                   │ yes
 *                   ▼
 *               add(conn) ── registered / closed ──► remove(conn)   (deadline cleared, share freed)
 *                   │
 *                   └── deadline passes first ──► onDeadline(conn)   (the owner closes it)
 *
 * Registered connections do not count here: a registration has passed the auth check, and from
 * then on the read timeout and the broker's queues bound what a connection can hold.
 */
export class PendingConnections<C> {
  readonly #deadlineMs: number;
  readonly #maxPerAddress: number;
  readonly #onDeadline: (connection: C) => void;
  readonly #pending = new Map<C, { address: string; timer: NodeJS.Timeout }>();
  /** How many pending connections each address key holds; keys at zero are deleted. */
  readonly #perAddress = new Map<string, number>();

  /**
   * @param deadlineMs ms a connection has to register from its accept.
   * @param maxPerAddress most pending connections of one address key (see `addressShareKey`).
   * @param onDeadline called for a connection still pending at its deadline (it is no longer counted).
   */
  constructor(deadlineMs: number, maxPerAddress: number, onDeadline: (connection: C) => void) {
    this.#deadlineMs = deadlineMs;
    this.#maxPerAddress = maxPerAddress;
    this.#onDeadline = onDeadline;
  }

  /** Connections pending now. */
  get size(): number {
    return this.#pending.size;
  }

  /** True when a connection from `address` (an addressShareKey) may be added. */
  hasRoom(address: string): boolean {
    return (this.#perAddress.get(address) ?? 0) < this.#maxPerAddress;
  }

  /** Starts `connection`'s registration deadline and counts it against `address`. */
  add(connection: C, address: string): void {
    const timer = setTimeout(() => {
      this.remove(connection);
      this.#onDeadline(connection);
    }, this.#deadlineMs);
    this.#pending.set(connection, { address, timer });
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
  }

  /** `connection` registered or closed: its deadline is cleared and its share freed. Idempotent. */
  remove(connection: C): void {
    const entry = this.#pending.get(connection);
    if (entry === undefined) return;
    this.#pending.delete(connection);
    clearTimeout(entry.timer);
    const left = this.#perAddress.get(entry.address)! - 1;
    if (left === 0) this.#perAddress.delete(entry.address);
    else this.#perAddress.set(entry.address, left);
  }
}

/**
 * The key under which a remote address's pending connections are counted: an IPv4 address as it
 * is (an IPv4-mapped IPv6 address as its IPv4 form), an IPv6 address by its /64 prefix — one host
 * usually holds a whole /64, so counting single IPv6 addresses would give it billions of shares.
 * An unknown address (the socket closed before it was read) gets a key of its own.
 */
export function addressShareKey(address: string | undefined): string {
  if (address === undefined) return "?";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const bare = address.split("%")[0]!.toLowerCase(); // drop a zone id (fe80::1%eth0)
  const [head = "", tail] = bare.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16)).join(":")}::/64`;
}
