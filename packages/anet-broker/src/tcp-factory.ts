import type { Socket } from "node:net";
import { type ClientTlsOptions, ConnectError } from "@switchyard/transport";
import { dial, parseAddress, resolveClientTls } from "@switchyard/transport/internal";

/** Default ms of idleness before the first TCP keepalive probe. */
export const DEFAULT_KEEPALIVE_INITIAL_DELAY = 30_000;

/** Options of `tcpFactory`; every field optional. How long a dial may take is the pool's `dialTimeout`. */
export interface TcpFactoryOptions {
  /** TCP keepalive probes on idle connections, so a vanished peer is noticed. Default true. */
  keepAlive?: boolean;
  /** Ms of idleness before the first keepalive probe. Default 30 000. */
  keepAliveInitialDelay?: number;
  /** Disable Nagle's algorithm: small requests leave at once. Default true. */
  noDelay?: boolean;
  /**
   * Dial every address with TLS: `true` or settings (`ca`, `cert`/`key` for mutual TLS,
   * `servername`, `rejectUnauthorized`). A `tls://host:port` address is dialled with TLS even
   * without it, and never falls back to plaintext. Default: plaintext unless the address is `tls://`.
   */
  tls?: ClientTlsOptions | boolean;
}

/** Makes a connection to `address` ("host:port", "tcp://host:port" or "tls://host:port"); `signal` aborts the dial. */
export type AddressFactory<T> = (address: string, signal?: AbortSignal) => Promise<T>;

/** True while a pooled socket can still carry requests (not destroyed, not half closed). */
export function isSocketUsable(socket: Socket): boolean {
  return !socket.destroyed && socket.readyState === "open";
}

/**
 * The TCP connection factory for `createPoolList`: dials (transport's dial) with TCP keepalive and
 * NODELAY, and with TLS for `tls://` addresses or the `tls` option (the socket resolves once the
 * handshake is done; certificate errors are ConnectError with a message saying what to check). Node's dial errors (ECONNREFUSED, …) become ConnectError (code CONNECT_FAILED) with the
 * original as `cause`; an aborted dial (the pool's dialTimeout) too, with the abort's reason. Each
 * socket it makes carries a quiet 'error' listener, so a pooled connection reset while idle never
 * crashes the process (it is found unusable on validation).
 */
export function tcpFactory(options: TcpFactoryOptions = {}): AddressFactory<Socket> {
  const socketOptions = {
    noDelay: options.noDelay ?? true,
    keepAlive: options.keepAlive ?? true,
    keepAliveInitialDelay: options.keepAliveInitialDelay ?? DEFAULT_KEEPALIVE_INITIAL_DELAY,
  };
  return async (address, signal) => {
    const aborted = () => new ConnectError(`dial ${address} aborted`, { cause: signal?.reason });
    const parsed = parseAddress(address);
    const socket = await dial(parsed, signal, aborted, { ...socketOptions, tls: resolveClientTls(parsed, options.tls, "tcpFactory option tls") });
    socket.on("error", ignore);
    return socket;
  };
}

function ignore(): void {
  // Errors after the dial reach whoever uses the socket through 'close'; see tcpFactory.
}
