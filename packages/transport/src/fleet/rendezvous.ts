import { createHash } from "node:crypto";

/**
 * A broker's rendezvous (highest random weight) weight for one client: the client uses the live
 * broker of highest weight. Every client ranks the brokers differently, so clients spread evenly;
 * when a broker leaves, only its clients move (each to its own next choice), and when it returns,
 * only they move back. 48 bits of SHA-256 over the client id and the broker's key; computed when
 * the set of brokers changes, never per request.
 */
export function rendezvousWeight(clientId: string, brokerKey: string): number {
  return createHash("sha256").update(clientId).update("\0").update(brokerKey).digest().readUIntBE(0, 6);
}
