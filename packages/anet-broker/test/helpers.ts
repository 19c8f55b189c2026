import { closeAfterTest, onCleanup } from "@switchyard/testing";
import { type AnetHandler, type AnetServerOptions, Broker, type AnetBrokerOptions, createAnetServer, createPoolList, type PoolListOptions, type TcpFactoryOptions, tcpFactory } from "../src/index.js";

/**
 * An anet server on 127.0.0.1:0, closed after the test, which fails if a client still holds a
 * connection to it then (brokers started later are closed first); returns its "host:port".
 */
export async function startServer(handler: AnetHandler, options?: AnetServerOptions): Promise<string> {
  const server = createAnetServer(handler, options);
  const { host, port } = await server.listen(0, "127.0.0.1");
  closeAfterTest({ name: `AnetServer ${host}:${port}`, openConnections: () => server.connections, close: () => server.close() });
  return `${host}:${port}`;
}

// The anet Broker is this package's own: these two stay here; the fixtures any package's tests
// share (raw servers, refusing addresses, outcomes) come from @switchyard/testing.

/** A started Broker over one pool per address, closed after the test. */
export function startBroker(
  addrs: string[],
  options: AnetBrokerOptions & { cap?: number; pool?: PoolListOptions; factory?: TcpFactoryOptions } = {},
): Broker {
  // A short closeTimeout: tests leave requests unanswered on purpose, and cleanup must not wait 5 s.
  const { cap = 5, pool, factory, closeTimeout = 200, ...brokerOptions } = options;
  const broker = new Broker(createPoolList(cap, tcpFactory(factory), addrs, { dialTimeout: 2000, ...pool }), { closeTimeout, ...brokerOptions });
  broker.start();
  onCleanup(() => broker.close());
  return broker;
}
