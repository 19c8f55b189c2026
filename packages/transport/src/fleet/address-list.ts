import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { InvalidArgumentError } from "@switchyard/protocol";
import { formatHostPort, type ParsedAddress, parseAddress } from "../options/address.js";
import type { ClientTlsOptions } from "../tls/client-tls.js";

/** One broker of a fleet, as resolved: where to dial and how. */
export interface BrokerAddress {
  /** What identifies the broker: the dialled address with its scheme ("tls://10.0.0.5:9090", "127.0.0.1:9090"). */
  readonly key: string;
  /** The address a BaseClient dials (an IP once a host name was resolved). */
  readonly address: string;
  /** The host name it was resolved from, for TLS's servername; null for an IP literal. */
  readonly hostname: string | null;
}

/** Resolves a host name to its addresses, as dns.promises.lookup with `all: true` does. */
export type Lookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** The system resolver (getaddrinfo, as net.connect uses): every address of a name. */
export const defaultLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true });

/**
 * Checks a fleet's address list: one address (`"host:port"`, `"tcp://…"`, `"tls://…"`) or a
 * non-empty array of them. Throws InvalidArgumentError naming the bad entry.
 */
export function parseAddressList(addresses: string | readonly string[]): ParsedAddress[] {
  if (typeof addresses === "string") return [parseAddress(addresses)];
  if (!Array.isArray(addresses)) throw new InvalidArgumentError("addresses must be an address string or an array of them");
  if (addresses.length === 0) throw new InvalidArgumentError('addresses is an empty array: give at least one broker address, e.g. "127.0.0.1:9090"');
  return addresses.map((address, index) => parseAddress(address, `addresses[${index}]`));
}

/**
 * The brokers a parsed list names now: an IP literal is one broker; a host name is one broker per
 * address it resolves to (a Kubernetes headless Service names every pod), of one family only —
 * that of the first answer — since a dual-stack name lists each host twice. Duplicates count once.
 * Rejects with the lookup's error when a name does not resolve.
 */
export async function resolveAddressList(list: readonly ParsedAddress[], lookup: Lookup = defaultLookup): Promise<BrokerAddress[]> {
  const brokers = new Map<string, BrokerAddress>();
  const answers = await Promise.all(list.map((entry) => (isIP(entry.host) !== 0 ? null : lookup(entry.host))));
  list.forEach((entry, index) => {
    const answer = answers[index];
    if (answer === null || answer === undefined) {
      add(brokers, entry, entry.host, null);
      return;
    }
    const family = answer[0]?.family;
    for (const { address, family: its } of answer) if (its === family) add(brokers, entry, address, entry.host);
  });
  return [...brokers.values()];
}

function add(brokers: Map<string, BrokerAddress>, entry: ParsedAddress, host: string, hostname: string | null): void {
  const hostPort = formatHostPort({ host, port: entry.port });
  const address = entry.scheme === null ? hostPort : `${entry.scheme}://${hostPort}`;
  if (!brokers.has(address)) brokers.set(address, { key: address, address, hostname });
}

/**
 * The `tls` option for a broker dialled by the IP its host name resolved to: the certificate is
 * still checked against the name (servername), unless the caller named another.
 */
export function tlsFor(broker: BrokerAddress, tls: ClientTlsOptions | boolean | undefined): ClientTlsOptions | boolean | undefined {
  if (broker.hostname === null || tls === false) return tls;
  if (tls === undefined && !broker.address.startsWith("tls://")) return undefined;
  const given = typeof tls === "object" ? tls : {};
  return { ...given, servername: given.servername ?? broker.hostname };
}
