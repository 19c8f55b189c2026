import { createServer, type Server, type Socket } from "node:net";
import { AnetDecoder, type AnetFrame, encodeAnetFrame } from "@switchyard/protocol";
import { afterEach, expect } from "vitest";
import { type AnetHandler, type AnetServerOptions, Broker, type BrokerOptions, createAnetServer, createPoolList, type PoolListOptions, type TcpFactoryOptions, tcpFactory } from "../src/index.js";

const cleanups: Array<() => Promise<void> | void> = [];

/** Runs `cleanup` after the current test, last registered first. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An anet server on 127.0.0.1:0, closed after the test; returns its "host:port". */
export async function startServer(handler: AnetHandler, options?: AnetServerOptions): Promise<string> {
  const server = createAnetServer(handler, options);
  const { host, port } = await server.listen(0, "127.0.0.1");
  onCleanup(() => server.close());
  return `${host}:${port}`;
}

/** A started Broker over one pool per address, closed after the test. */
export function startBroker(
  addrs: string[],
  options: BrokerOptions & { cap?: number; pool?: PoolListOptions; factory?: TcpFactoryOptions } = {},
): Broker {
  // A short closeTimeout: tests leave requests unanswered on purpose, and cleanup must not wait 5 s.
  const { cap = 5, pool, factory, closeTimeout = 200, ...brokerOptions } = options;
  const broker = new Broker(createPoolList(cap, tcpFactory(factory), addrs, { dialTimeout: 2000, ...pool }), { closeTimeout, ...brokerOptions });
  broker.start();
  onCleanup(() => broker.close());
  return broker;
}

/** A raw TCP server whose connections the test drives frame by frame. */
export interface RawServer {
  address: string;
  /** Sockets accepted so far, in order. */
  sockets: Socket[];
  /** Bytes received over all connections. */
  bytesReceived(): number;
}

/**
 * A TCP server that hands each decoded anet request to `onFrame` with its socket and the index of
 * the connection (0 for the first accepted). Closed, with its sockets, after the test.
 */
export async function startRawServer(onFrame: (frame: AnetFrame, socket: Socket, connection: number) => void, lengthSize: 2 | 4 = 2): Promise<RawServer> {
  const sockets: Socket[] = [];
  let received = 0;
  const server: Server = createServer((socket) => {
    const index = sockets.push(socket) - 1;
    const decoder = new AnetDecoder({ lengthSize });
    socket.setNoDelay(true);
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      for (const frame of decoder.push(chunk)) onFrame(frame, socket, index);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as { port: number };
  return { address: `127.0.0.1:${port}`, sockets, bytesReceived: () => received };
}

/** Writes one anet frame to a raw socket. */
export function reply(socket: Socket, taskId: number, body: Uint8Array | string, lengthSize: 2 | 4 = 2): void {
  socket.write(Buffer.concat(encodeAnetFrame(taskId, typeof body === "string" ? Buffer.from(body) : body, { lengthSize })));
}

/** An address on 127.0.0.1 where nothing listens (a port bound, then freed). */
export async function refusingAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** Settles every promise and returns the outcomes, for asserting on many failures at once. */
export async function outcomes<T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  return Promise.all(promises.map((p) => p.then((value) => ({ status: "fulfilled" as const, value }), (reason: unknown) => ({ status: "rejected" as const, reason }))));
}

/** The `code` of each rejection (undefined for a fulfilment). */
export function codes(results: PromiseSettledResult<unknown>[]): Array<string | undefined> {
  return results.map((result) => (result.status === "rejected" ? (result.reason as { code?: string }).code : undefined));
}

/** Asserts that a promise rejects with an error of `code`, and returns the error. */
export async function rejection(promise: Promise<unknown>, code: string): Promise<Error & { code: string; cause?: unknown }> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason as Error & { code: string },
  );
  expect(error, `expected a rejection with ${code}`).toBeDefined();
  expect(error!.code).toBe(code);
  return error!;
}
