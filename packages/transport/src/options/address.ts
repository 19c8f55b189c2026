import { InvalidArgumentError } from "@switchyard/protocol";

/** Where to dial: a host name or IP and a TCP port. */
export interface HostPort {
  host: string;
  port: number;
}

/** A parsed address: where to dial, and whether its scheme asks for TLS. */
export interface ParsedAddress extends HostPort {
  /**
   * `"tls"` for `tls://…` (TLS, never plaintext), `"tcp"` for `tcp://…` (plaintext), `null` when
   * the address names no scheme (plaintext unless a `tls` option asks for TLS).
   */
  scheme: "tcp" | "tls" | null;
}

/** The forms an address may take, as error messages list them. */
export const ADDRESS_FORMS = '"host:port", "tcp://host:port" or "tls://host:port" (IPv6 as "[::1]:port")';

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** Options of parseAddress. */
export interface ParseAddressOptions {
  /** Accept port 0 (an address to listen on, where 0 picks a free port). Default false. */
  allowPortZero?: boolean;
}

/**
 * Parses an address: `"host:port"`, `"tcp://host:port"`, `"tls://host:port"`, with IPv6 hosts as
 * `"[::1]:port"` (a bare `"::1:9090"` is read with the last colon before the port). Anything else
 * — another scheme, a path, a port outside 1 ..= 65535 (0 ..= 65535 with `allowPortZero`) — throws
 * InvalidArgumentError naming `what`, the address and the accepted forms.
 */
export function parseAddress(address: string, what = "address", options: ParseAddressOptions = {}): ParsedAddress {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(address)} ${why}: use ${ADDRESS_FORMS}, e.g. "127.0.0.1:9090"`);
  };
  if (typeof address !== "string") return fail("is not a string");
  let rest = address;
  let scheme: ParsedAddress["scheme"] = null;
  const named = SCHEME.exec(address);
  if (named !== null) {
    const name = named[1]!.toLowerCase();
    if (name !== "tcp" && name !== "tls") return fail(`has the scheme "${named[1]}", which is not tcp or tls`);
    scheme = name;
    rest = address.slice(named[0].length);
  }
  if (/[/?#@\s]/.test(rest)) return fail("is not host:port");
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) return fail("has no port");
  let host = rest.slice(0, colon);
  if (host.startsWith("[") !== host.endsWith("]")) return fail("has an unclosed IPv6 bracket");
  if (host.startsWith("[")) host = host.slice(1, -1);
  else if (host.includes(":") && scheme !== null) return fail("has an IPv6 host without brackets");
  const portText = rest.slice(colon + 1);
  const port = Number(portText);
  if (host === "") return fail("has no host");
  const lowest = options.allowPortZero === true ? 0 : 1;
  if (!/^\d+$/.test(portText) || port < lowest || port > 65_535) return fail(`has no port between ${lowest} and 65535`);
  return { host, port, scheme };
}

/** `host:port`, with an IPv6 host in brackets: how messages and logs name an address. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
