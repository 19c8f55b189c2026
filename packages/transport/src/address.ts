import { InvalidArgumentError } from "@switchyard/protocol";

/** Where to dial: a host name or IP and a TCP port. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `"host:port"`, `"[ipv6]:port"` or `"ipv6-with-colons:port"` (the last colon splits).
 * Throws InvalidArgumentError naming `what` when it is not such an address.
 */
export function parseAddress(address: string, what = "address"): HostPort {
  const fail = (): never => {
    throw new InvalidArgumentError(`${what} must be "host:port" (e.g. "127.0.0.1:9090"), got ${JSON.stringify(address)}`);
  };
  if (typeof address !== "string") fail();
  const colon = address.lastIndexOf(":");
  if (colon <= 0) fail();
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const portText = address.slice(colon + 1);
  const port = Number(portText);
  if (host === "" || !/^\d+$/.test(portText) || port < 1 || port > 65_535) fail();
  return { host, port };
}
