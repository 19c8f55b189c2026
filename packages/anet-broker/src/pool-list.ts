import type { Socket } from "node:net";
import { InvalidArgumentError } from "@switchyard/protocol";
import { Pool, type PoolOptions } from "@switchyard/transport";
import { parseAddress } from "@switchyard/transport/internal";
import { type AddressFactory, isSocketUsable } from "./tcp-factory.js";

/** Pool options for each address of a pool list: everything but what `createPoolList` sets itself. */
export type PoolListOptions = Omit<PoolOptions<Socket>, "cap" | "factory" | "name">;

/**
 * One Pool of `cap` connections per address, each named after its address, for a Broker
 * (`NewPoolList` of the original). `validate` defaults to "the socket is still open". A pool list
 * serves one Broker, which closes it when it closes.
 */
export function createPoolList(cap: number, factory: AddressFactory<Socket>, addrs: readonly string[], options: PoolListOptions = {}): Pool<Socket>[] {
  if (addrs.length === 0) throw new InvalidArgumentError("createPoolList needs at least one address");
  return addrs.map((address) => {
    parseAddress(address);
    return new Pool<Socket>({ validate: isSocketUsable, ...options, cap, name: address, factory: (signal) => factory(address, signal) });
  });
}
