import { timingSafeEqual } from "node:crypto";
import { BrokerError, decodeRegistration, type Frame, FrameFlags, FrameType, type Registration, Role } from "@switchyard/protocol";
import { WIRE } from "./errors.js";

/** What admission needs to know about the broker. */
export interface AdmissionPolicy {
  /** Tokens of which a registration must carry one; empty = no auth. */
  authTokens: readonly Buffer[];
  defaultProviderCapacity: number;
  /** The broker is draining: no new registrations. */
  draining: boolean;
}

/** A registration the broker accepts, with the provider capacity it will enforce. */
export interface Admitted {
  registration: Registration;
  capacity: number;
}

/**
 * Decides a connection's first frame (docs/protocol.md §1.5 "Registration"): the accepted registration, or
 * the error that refuses the connection: NOT_REGISTERED (not a registration), BAD_REGISTRATION,
 * UNAUTHORIZED, SHUTTING_DOWN. A clientId that is registered already is no refusal: the new
 * registration takes it over (BrokerServer), as MQTT's CONNECT does.
 */
export function admit(frame: Frame, policy: AdmissionPolicy): Admitted | BrokerError {
  if (frame.type !== FrameType.START || (frame.flags & FrameFlags.REGISTRATION) === 0) return WIRE.NOT_REGISTERED;
  if (policy.draining) return WIRE.SHUTTING_DOWN;
  let registration: Registration;
  try {
    registration = decodeRegistration(frame.payload);
  } catch (error) {
    return error instanceof BrokerError ? error : WIRE.BAD_REGISTRATION;
  }
  if (policy.authTokens.length > 0 && !tokenAccepted(registration.authToken, policy.authTokens)) return WIRE.UNAUTHORIZED;
  const capacity = registration.role === Role.PROVIDER ? (registration.capacity ?? policy.defaultProviderCapacity) : 0;
  if (registration.role === Role.PROVIDER && capacity < 1) {
    return new BrokerError("BAD_REGISTRATION", "registration refused: provider capacity must be at least 1");
  }
  return { registration, capacity };
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
