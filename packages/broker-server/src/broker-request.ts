import type { DeadlineEntry, IdKeyed, Issued, QueueLinks } from "@switchyard/transport/internal";
import { readWord } from "@switchyard/protocol";
import type { Peer } from "./peer.js";
import type { StreamRelay } from "./stream-relay.js";

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

/**
 * One consumer request the broker holds. A plain record: the router owns all behaviour. It is
 * its own key and link in every table it sits in, so accepting a request allocates this object
 * (and its deadline entry) and nothing else. Those keys and links are the containers' fields, each
 * declared by the interface its container requires — `IdKeyed` (consumer.requests, a
 * RequestIdTable), `Issued` (the router's RequestIds), `QueueLinks` (a channel's wait queue or a
 * provider's inFlight, LinkedQueues) — and written only by that container; the router keeps the
 * handle of its DeadlineQueue entry. The rest is the request's own data.
 */
export class BrokerRequest implements IdKeyed, Issued, QueueLinks<BrokerRequest> {
  readonly consumer: Peer;
  /** The consumer's requestId as four big-endian words: its key in `consumer.requests`, and put back on everything sent to the consumer. */
  readonly id0: number;
  readonly id1: number;
  readonly id2: number;
  readonly id3: number;
  /** hashRequestId of the consumer's requestId. */
  readonly idHash: number;
  state: RequestState = RequestState.PENDING;
  /** performance.now() ms when the START arrived (its deadline less its timeout): for the duration histogram. */
  startedAt = 0;
  /** Its entry in the router's DeadlineQueue; `deadlineEntry.deadline` is when it times out. */
  deadlineEntry: DeadlineEntry<BrokerRequest> | null = null;
  /** The provider holding the request, once dispatched. */
  provider: Peer | null = null;
  /**
   * The id the provider knows it by, issued by the router's RequestIds once dispatched: the slot
   * it is held in (-1 before) and that slot's generation (0 before). Consumers choose
   * their own ids, so two of them (one hostile, say) may use the same one; forwarding ids
   * unchanged could give a provider two requests with one id.
   */
  slot = -1;
  generation = 0;
  /** The START had FINAL: no CHUNK/END belong to this request. */
  readonly single: boolean;
  /**
   * Bytes of the header block behind the request head (docs/protocol.md §1.19), 0 without one: it
   * goes to the provider untouched, with HEADERS set, and only to a provider that speaks 1.1.
   */
  readonly headerBytes: number;
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
  /**
   * The streamed request body's flow control through the broker (docs/protocol.md §1.20), made
   * when it starts and a side of it speaks 1.1; null for a whole body (START|FINAL) or between two
   * 1.0 peers, whose bytes are forwarded as they come.
   */
  requestFlow: StreamRelay | null = null;
  /** The streamed response body's, made at RESPONSE_START likewise. */
  responseFlow: StreamRelay | null = null;
  /**
   * Neighbours in a LinkedQueue: the channel's wait queue while QUEUED, its provider's `inFlight`
   * while IN_FLIGHT (never both: the states exclude each other).
   */
  queuePrev: BrokerRequest | null = null;
  queueNext: BrokerRequest | null = null;

  /** `requestId` is read here, not kept: it may be a view into a socket read. */
  constructor(consumer: Peer, requestId: Uint8Array, idHash: number, single: boolean, bodyBytes: number, headerBytes: number) {
    this.consumer = consumer;
    this.id0 = readWord(requestId, 0);
    this.id1 = readWord(requestId, 4);
    this.id2 = readWord(requestId, 8);
    this.id3 = readWord(requestId, 12);
    this.idHash = idHash;
    this.single = single;
    this.headerBytes = headerBytes;
    this.bodyOpen = !single;
    this.requestBytes = bodyBytes;
  }
}
