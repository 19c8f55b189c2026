import { timingSafeEqual } from "node:crypto";
import { BrokerError, decodeRegistration, type Frame, FrameFlags, FrameType, idToString, type Registration, Role } from "@switchyard/protocol";
import type { CertificateIdentity } from "@switchyard/transport";
import { type AccessList, tokenDigest } from "./acl/access-list.js";
import { WIRE } from "./errors.js";

/** What admission needs to know about the broker. */
export interface AdmissionPolicy {
  /** Tokens of which a registration must carry one; empty = no auth. */
  authTokens: readonly Buffer[];
  /** Per-channel permissions, or null for none. */
  acl: AccessList | null;
  defaultProviderCapacity: number;
  /** The broker is draining: no new registrations. */
  draining: boolean;
}

/** A registration the broker accepts, with the provider capacity it will enforce. */
export interface Admitted {
  registration: Registration;
  capacity: number;
  /** SHA-256 of its auth token (null without one): what an ACL reload checks it by again. */
  tokenDigest: Buffer | null;
}

/**
 * Decides a connection's first frame (docs/protocol.md §1.5 "Registration"): the accepted registration, or
 * the error that refuses the connection: NOT_REGISTERED (not a registration), BAD_REGISTRATION,
 * UNAUTHORIZED, FORBIDDEN (the ACL), SHUTTING_DOWN. A clientId that is registered already is no
 * refusal: the new registration takes it over (BrokerServer), as MQTT's CONNECT does. `identity`
 * is the connection's verified client certificate, if any.
 */
export function admit(frame: Frame, policy: AdmissionPolicy, identity: CertificateIdentity | null): Admitted | BrokerError {
  if (frame.type !== FrameType.START || (frame.flags & FrameFlags.REGISTRATION) === 0) return WIRE.NOT_REGISTERED;
  if (policy.draining) return WIRE.SHUTTING_DOWN;
  let registration: Registration;
  try {
    registration = decodeRegistration(frame.payload);
  } catch (error) {
    return error instanceof BrokerError ? error : WIRE.BAD_REGISTRATION;
  }
  if (policy.authTokens.length > 0 && !tokenAccepted(registration.authToken, policy.authTokens)) return WIRE.UNAUTHORIZED;
  const digest = registration.authToken === undefined ? null : tokenDigest(registration.authToken);
  if (policy.acl !== null) {
    const verdict = policy.acl.decide({ tokenDigest: digest, identity }, registration.role, idToString(registration.channelId));
    if (!verdict.allowed) return new BrokerError(verdict.code, verdict.message);
  }
  const capacity = registration.role === Role.PROVIDER ? (registration.capacity ?? policy.defaultProviderCapacity) : 0;
  if (registration.role === Role.PROVIDER && capacity < 1) {
    return new BrokerError("BAD_REGISTRATION", "registration refused: provider capacity must be at least 1");
  }
  return { registration, capacity, tokenDigest: digest };
}

/** Who a connection is, as far as the broker can tell: its auth token's digest and its client certificate. */
export interface Principal {
  tokenDigest: Buffer | null;
  identity: CertificateIdentity | null;
}

/**
 * True when two connections are the same principal: the same auth token (or neither has one) and
 * the same client certificate subject (or neither has one). A clientId may be taken over only by
 * its own principal, so that one client cannot knock another off by reusing its clientId.
 */
export function samePrincipal(a: Principal, b: Principal): boolean {
  const tokens = a.tokenDigest === null || b.tokenDigest === null ? a.tokenDigest === b.tokenDigest : a.tokenDigest.equals(b.tokenDigest);
  if (!tokens) return false;
  if (a.identity === null || b.identity === null) return a.identity === b.identity;
  return a.identity.commonName === b.identity.commonName && a.identity.altNames.join("\n") === b.identity.altNames.join("\n");
}

/** Compares against every token in constant time, so timing does not reveal a token's prefix. */
function tokenAccepted(token: string | undefined, accepted: readonly Buffer[]): boolean {
  if (token === undefined) return false;
  const given = Buffer.from(token, "utf8");
  let ok = false;
  for (const candidate of accepted) {
    if (candidate.length === given.length && timingSafeEqual(candidate, given)) ok = true;
  }
  return ok;
}
