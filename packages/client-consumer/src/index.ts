export { Consumer } from "./consumer.js";
export type { ConsumerStats } from "./consumer.js";
export type { ConsumerOptions, Reply, SendOptions } from "./consumer-options.js";
// Channel ids from names, so both sides can name a channel instead of sharing a UUID.
export { channelIdFor } from "@switchyard/protocol";
// What callers branch on (err.code), so an app imports from this package only.
export { BrokerError, CancelledError, ProtocolError, InvalidArgumentError, SwitchyardError, TimeoutError } from "@switchyard/protocol";
export type { BrokerErrorCode, Headers, ProtocolVersion, SwitchyardErrorCode } from "@switchyard/protocol";
export { AbortedError, ClientClosedError, ConnectError, DisconnectedError } from "@switchyard/transport";
export type {
  Body,
  ClientState,
  ClientStatus,
  ClientTransportStats,
  ClientTlsOptions,
  Logger,
  LogMethod,
  Lookup,
  Pem,
} from "@switchyard/transport";
