import { connect, type Socket, type TcpSocketConnectOpts } from "node:net";
import type { HostPort } from "./address.js";
import { ConnectError } from "./errors.js";

/**
 * Opens a TCP connection to `address`. Node's errors (ECONNREFUSED, ENOTFOUND, …) become
 * ConnectError with the original as `cause`; when `signal` aborts first the socket is destroyed
 * and the promise rejects with `abortError()` (the caller knows whether that was a timeout, a
 * close or the user's signal). `options` go to net.connect: `onread` (a SocketReader's), noDelay,
 * keepAlive…
 */
export function dial(
  address: HostPort,
  signal: AbortSignal | undefined,
  abortError: () => Error,
  options: Omit<TcpSocketConnectOpts, "host" | "port"> = {},
): Promise<Socket> {
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    const socket = connect({ ...options, host: address.host, port: address.port });
    const onConnect = () => {
      detach();
      resolve(socket);
    };
    const onError = (error: NodeJS.ErrnoException) => {
      detach();
      socket.destroy();
      reject(new ConnectError(`could not connect to ${address.host}:${address.port}: ${error.code ?? error.message}`, { cause: error }));
    };
    const onAbort = () => {
      detach();
      socket.destroy();
      reject(abortError());
    };
    const detach = () => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
