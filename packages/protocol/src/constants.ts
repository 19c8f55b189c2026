/** The broker protocol version this package speaks (header byte 0). */
export const PROTOCOL_VERSION = 1;

/** Bytes in a broker frame header: version u8, type u8, flags u16, requestId 16, length u32. */
export const HEADER_SIZE = 24;

/** Largest payload one broker frame may carry: 1 MiB. */
export const MAX_PAYLOAD = 1_048_576;

/** Bytes of a UUID on the wire. */
export const ID_SIZE = 16;

/** Bytes of the routing header a provider copies in front of its response: clientId + channelId. */
export const ROUTING_HEADER_SIZE = 32;

/** Bytes of a request head: timeoutMs u32. */
export const REQUEST_HEAD_SIZE = 4;

/** Broker frame types (docs/protocol.md §1.3 "Frame types"). */
export const FrameType = {
  START: 1,
  CHUNK: 2,
  END: 3,
  RESPONSE: 4,
  ERROR: 5,
  RESPONSE_START: 6,
  RESPONSE_CHUNK: 7,
  RESPONSE_END: 8,
  CANCEL: 9,
  PING: 10,
  PONG: 11,
  /**
   * 1.1: the sender of this frame grants the receiver `increment` more bytes of the body of the
   * stream named by its requestId (docs/protocol.md §1.20). Sent only on a connection that
   * negotiated 1.1.
   */
  CREDIT: 12,
  /**
   * 1.1, provider → broker, on the all-zero requestId: this connection's capacity is now the
   * payload's u32 (docs/protocol.md §1.21). Sent only on a connection that negotiated 1.1.
   */
  CAPACITY: 13,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Highest frame type value; types 1..MAX_FRAME_TYPE are known. */
export const MAX_FRAME_TYPE = FrameType.CAPACITY;

/** Frame flag bits (docs/protocol.md §1.4 "Flags"); unknown bits are ignored by receivers. */
export const FrameFlags = {
  NONE: 0,
  /** On START: this is the connection's registration; on RESPONSE: its ack. */
  REGISTRATION: 0x0001,
  /** On START: the whole request is in this frame; no CHUNK/END follow. */
  FINAL: 0x0002,
  /**
   * 1.1, on START, RESPONSE and RESPONSE_START: a header block comes first in the body
   * (docs/protocol.md §1.19). Set only on a connection that negotiated 1.1.
   */
  HEADERS: 0x0004,
} as const;

/** Registration roles. */
export const Role = {
  CONSUMER: 1,
  PROVIDER: 2,
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** The all-zero requestId: frames about the connection itself. */
export const CONNECTION_ID: Buffer = Buffer.alloc(ID_SIZE);
