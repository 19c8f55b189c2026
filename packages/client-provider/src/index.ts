export { Provider } from "./provider.js";
export type { ProviderStats } from "./provider.js";
export type { Handler, ProviderOptions, RequestBodyMode, ResponseBody, ResponseWithHeaders } from "./provider-options.js";
export type { ProviderRequest, RequestBody, RequestContext } from "./request-context.js";
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
