/**
 * The slice of the Switchyard client APIs the bench drives (DESIGN.md "Public API"), loaded on
 * demand so the peers still run when a client package is not built yet.
 */

/** A connected consumer. */
export interface BenchConsumer {
  send(body: Uint8Array, timeout: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A connected provider. */
export interface BenchProvider {
  close(): Promise<void>;
}

/** An anet Broker. */
export interface BenchAnetBroker {
  start(): void;
  send(body: Buffer, options: { timeout: number }): Promise<Uint8Array>;
  close(): Promise<void>;
}

interface ConsumerModule {
  Consumer: { connect(address: string, channelId: string, options: { timeout: number }): Promise<BenchConsumer> };
}

interface ProviderModule {
  Provider: {
    connect(
      address: string,
      channelId: string,
      handler: (payload: Buffer) => Promise<Uint8Array>,
      options: { concurrency: number },
    ): Promise<BenchProvider>;
  };
}

interface AnetModule {
  createPoolList(size: number, factory: unknown, addresses: string[]): unknown;
  tcpFactory(): unknown;
  Broker: new (
    pools: unknown,
    options: { maxInflightPerConn: number; queueSize: number },
  ) => BenchAnetBroker;
  createAnetServer(handler: (body: Buffer) => Promise<Uint8Array>): unknown;
}

/** Thrown when a Switchyard package the bench needs does not export its API (not built or not landed). */
export class PackageMissingError extends Error {
  readonly code = "PACKAGE_MISSING";
  override readonly name = "PackageMissingError";
}

async function load<T>(specifier: string, exports: string[]): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    throw new PackageMissingError(`${specifier} cannot be loaded (is it built?)`, { cause });
  }
  const missing = exports.filter((name) => mod[name] === undefined);
  if (missing.length > 0) throw new PackageMissingError(`${specifier} does not export ${missing.join(", ")} yet`);
  return mod as T;
}

/** Loads `@switchyard/client-consumer`. */
export function loadConsumerModule(): Promise<ConsumerModule> {
  return load<ConsumerModule>("@switchyard/client-consumer", ["Consumer"]);
}

/** Loads `@switchyard/client-provider`. */
export function loadProviderModule(): Promise<ProviderModule> {
  return load<ProviderModule>("@switchyard/client-provider", ["Provider"]);
}

/** Loads `@switchyard/anet-broker`. */
export function loadAnetModule(): Promise<AnetModule> {
  return load<AnetModule>("@switchyard/anet-broker", ["Broker", "createPoolList", "tcpFactory", "createAnetServer"]);
}
