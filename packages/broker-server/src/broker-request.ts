import type { DeadlineEntry } from "@switchyard/transport";
import type { Peer } from "./peer.js";

/**
 * Where a request is in its life. Every way out goes through the router's one `settle()`, which
 * removes the request from every table, queue and deadline and sends the consumer its error.
 *
 *   START ─► PENDING ─┬─(provider free)──────────────────────► IN_FLIGHT ─(response, error, timeout,
 *                     └─(all full)─► QUEUED ─(capacity frees)─► PENDING ─┘  cancel, gone)──► SETTLED
 *                                      └──(timeout, cancel, overload, consumer gone, no provider)──► SETTLED
 *
 * PENDING lasts only inside one synchronous call (between the decision and the START frame).
 */
export const RequestState = {
  PENDING: 0,
  QUEUED: 1,
  IN_FLIGHT: 2,
  SETTLED: 3,
} as const;
export type RequestState = (typeof RequestState)[keyof typeof RequestState];

/** One consumer request the broker holds. A plain record: the router owns all behaviour. */
export class BrokerRequest {
  readonly consumer: Peer;
  /** The consumer's requestId as a latin1 string: its key in `consumer.requests`. */
  readonly key: string;
  /** The consumer's requestId (a copy), put back on everything sent to the consumer. */
  readonly requestId: Buffer;
  state: RequestState = RequestState.PENDING;
  /** Its entry in the router's DeadlineQueue; `deadlineEntry.deadline` is when it times out. */
  deadlineEntry: DeadlineEntry<BrokerRequest> | null = null;
  /** The provider holding the request, once dispatched. */
  provider: Peer | null = null;
  /** The broker-issued id the provider knows the request by (ProviderRequestIds); 0 until dispatched. */
  seq = 0;
  /** The START had FINAL: no CHUNK/END belong to this request. */
  readonly single: boolean;
  /** More request body (CHUNK/END) is still to come from the consumer. */
  bodyOpen: boolean;
  /** Request body bytes received so far. */
  requestBytes: number;
  /** RESPONSE_START was forwarded; RESPONSE_END has not come yet. */
  responseOpen = false;
  /** Response body bytes forwarded so far. */
  responseBytes = 0;
  /** While QUEUED: the START payload, then CHUNK payloads, copied (END is `bodyOpen === false`). */
  held: Buffer[] | null = null;
  /** Bytes in `held`. */
  heldBytes = 0;
  /** Neighbours in the channel's wait queue (LinkedQueue) while QUEUED. */
  queuePrev: BrokerRequest | null = null;
  queueNext: BrokerRequest | null = null;

  constructor(consumer: Peer, key: string, requestId: Buffer, single: boolean, bodyBytes: number) {
    this.consumer = consumer;
    this.key = key;
    this.requestId = requestId;
    this.single = single;
    this.bodyOpen = !single;
    this.requestBytes = bodyBytes;
  }
}
