/**
 * A protocol version (docs/protocol.md §1.5 "Version negotiation"). `major` is the frame header's
 * version byte and changes only with the frame format; `minor` versions add features that a
 * connection uses only once both ends said at registration that they speak them.
 */
export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

/** Protocol 1.0: what a peer speaks that announces no version (every peer before 1.1). */
export const VERSION_1_0: ProtocolVersion = Object.freeze({ major: 1, minor: 0 });

/** The newest version this package speaks: 1.1 (headers, §1.19; flow control, §1.20). */
export const LATEST_VERSION: ProtocolVersion = Object.freeze({ major: 1, minor: 1 });

/**
 * Minor version of protocol 1 from which a connection may carry header blocks (the HEADERS flag,
 * §1.19). A connection that negotiated less never sees the flag set.
 */
export const HEADERS_SINCE_MINOR = 1;

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
export function compareVersions(a: ProtocolVersion, b: ProtocolVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** The version a connection uses: the older of what the two ends speak. */
export function negotiateVersion(a: ProtocolVersion, b: ProtocolVersion): ProtocolVersion {
  return compareVersions(a, b) <= 0 ? a : b;
}

/** "1.1". */
export function formatVersion(version: ProtocolVersion): string {
  return `${version.major}.${version.minor}`;
}

/**
 * Minor version of protocol 1 from which a connection's streamed bodies are flow-controlled by
 * CREDIT frames and initial windows (§1.20). On a connection that negotiated less, none of it is
 * sent and a peer's credit is unlimited.
 */
export const FLOW_CONTROL_SINCE_MINOR = 1;

/**
 * Minor version of protocol 1 from which a provider may change its capacity on a connection with
 * CAPACITY frames (§1.21). On a connection that negotiated less, none is sent: the provider keeps
 * the capacity it registered with.
 */
export const CAPACITY_SINCE_MINOR = 1;
