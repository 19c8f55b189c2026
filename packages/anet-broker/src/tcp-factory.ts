import { connect, type Socket } from "node:net";
import { ConnectError, DEFAULT_POOL_DIAL_TIMEOUT, parseAddress } from "@switchyard/transport";
import { ms } from "./broker-options.js";

/** Default ms of idleness before the first TCP keepalive probe. */
export const DEFAULT_KEEPALIVE_INITIAL_DELAY = 30_000;

/** Options of `tcpFactory`; every field optional. */
export interface TcpFactoryOptions {
  /** Ms a dial may take before it fails with CONNECT_FAILED. Default 5000. */
  dialTimeout?: number;
  /** TCP keepalive probes on idle connections, so a vanished peer is noticed. Default true. */
  keepAlive?: boolean;
  /** Ms of idleness before the first keepalive probe. Default 30 000. */
  keepAliveInitialDelay?: number;
  /** Disable Nagle's algorithm: small requests leave at once. Default true. */
  noDelay?: boolean;
}

/** Makes a connection to `address` ("host:port"); `signal` aborts the dial. */
export type AddressFactory<T> = (address: string, signal?: AbortSignal) => Promise<T>;

/** True while a pooled socket can still carry requests (not destroyed, not half closed). */
export function isSocketUsable(socket: Socket): boolean {
  return !socket.destroyed && socket.readyState === "open";
}

/**
 * The TCP connection factory for `createPoolList`: dials with a timeout, TCP keepalive and
 * NODELAY. Node's dial errors (ECONNREFUSED, …) become ConnectError (code CONNECT_FAILED) with
 * the original as `cause`. Each socket it makes carries a quiet 'error' listener, so a pooled
 * connection reset while idle never crashes the process (it is found unusable on validation).
 */
export function tcpFactory(options: TcpFactoryOptions = {}): AddressFactory<Socket> {
  const dialTimeout = ms("dialTimeout", options.dialTimeout, DEFAULT_POOL_DIAL_TIMEOUT, "tcpFactory");
  const keepAlive = options.keepAlive ?? true;
  const keepAliveInitialDelay = options.keepAliveInitialDelay ?? DEFAULT_KEEPALIVE_INITIAL_DELAY;
  const noDelay = options.noDelay ?? true;
  return (address, signal) =>
    new Promise<Socket>((resolve, reject) => {
      const { host, port } = parseAddress(address);
      if (signal?.aborted) {
        reject(new ConnectError(`dial ${address} aborted`, { cause: signal.reason }));
        return;
      }
      const socket = connect({ host, port, noDelay, keepAlive, keepAliveInitialDelay });
      socket.on("error", ignore);
      const fail = (error: ConnectError) => {
        done();
        socket.destroy();
        reject(error);
      };
      const onError = (error: NodeJS.ErrnoException) => fail(new ConnectError(`dial ${address} failed: ${error.code ?? error.message}`, { cause: error }));
      const onAbort = () => fail(new ConnectError(`dial ${address} aborted`, { cause: signal?.reason }));
      const timer = dialTimeout > 0 ? setTimeout(() => fail(new ConnectError(`dial ${address} timed out after ${dialTimeout} ms`)), dialTimeout) : undefined;
      const done = () => {
        clearTimeout(timer);
        socket.off("error", onError);
        socket.off("connect", onConnect);
        signal?.removeEventListener("abort", onAbort);
      };
      const onConnect = () => {
        done();
        resolve(socket);
      };
      socket.once("connect", onConnect);
      socket.once("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
}

function ignore(): void {
  // Errors after the dial reach whoever uses the socket through 'close'; see tcpFactory.
}
