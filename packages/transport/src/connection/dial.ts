import { connect, type Socket, type TcpSocketConnectOpts } from "node:net";
import { connect as connectTls, type ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { ConnectError } from "../errors.js";
import { formatHostPort, type HostPort } from "../options/address.js";
import { explainTlsFailure } from "../tls/client-tls.js";

/** Options of dial: net.connect's (onread, noDelay, keepAlive…) and, for TLS, tls.connect's. */
export interface DialOptions extends Omit<TcpSocketConnectOpts, "host" | "port"> {
  /** Dial TLS with these settings (resolveClientTls makes them); null or absent: plaintext. */
  tls?: TlsConnectionOptions | null;
}

/**
 * Opens a TCP connection to `address`, or a TLS one when `options.tls` is set (resolving once the
 * handshake is done and the server's certificate verified). Node's errors (ECONNREFUSED,
 * ENOTFOUND, certificate errors, …) become ConnectError with the original as `cause` and, for TLS,
 * a message that says what to check; when `signal` aborts first the socket is destroyed and the
 * promise rejects with `abortError()` (the caller knows whether that was a timeout, a close or the
 * user's signal).
 */
export function dial(address: HostPort, signal: AbortSignal | undefined, abortError: () => Error, options: DialOptions = {}): Promise<Socket> {
  if (signal?.aborted) return Promise.reject(abortError());
  const { tls, ...netOptions } = options;
  return new Promise((resolve, reject) => {
    const target = { ...netOptions, host: address.host, port: address.port };
    const socket = tls == null ? connect(target) : connectTls({ ...target, ...tls });
    const ready = tls == null ? "connect" : "secureConnect";
    const onConnect = () => {
      detach();
      resolve(socket);
    };
    const onError = (error: NodeJS.ErrnoException) => {
      detach();
      socket.destroy();
      const where = formatHostPort(address);
      const message = (tls == null ? null : explainTlsFailure(error, where)?.message) ?? `could not connect to ${where}: ${error.code ?? error.message}`;
      reject(new ConnectError(message, { cause: error }));
    };
    const onAbort = () => {
      detach();
      socket.destroy();
      reject(abortError());
    };
    const detach = () => {
      socket.off(ready, onConnect);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    socket.once(ready, onConnect);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
