export { FrameDecoder } from "./frame-decoder.js";
export type { FrameDecoderOptions } from "./frame-decoder.js";
export { encodeFrame, COPY_THRESHOLD } from "./frame-encoder.js";
export { writeFrameHeader, readFrameLength, payloadLength, payloadParts } from "./frame-header.js";
export { readWord, writeWord } from "./id-words.js";
export type { Frame } from "./frame-header.js";
export {
  PROTOCOL_VERSION,
  HEADER_SIZE,
  MAX_PAYLOAD,
  ID_SIZE,
  ROUTING_HEADER_SIZE,
  REQUEST_HEAD_SIZE,
  CONNECTION_ID,
  FrameType,
  FrameFlags,
  MAX_FRAME_TYPE,
  Role,
} from "./constants.js";
export {
  SwitchyardError,
  BrokerError,
  ProtocolError,
  InvalidArgumentError,
  TimeoutError,
  CancelledError,
  WIRE_ERROR_CODES,
  UNKNOWN_WIRE_ERROR,
  wireErrorName,
} from "./errors.js";
export type { SwitchyardErrorCode, WireErrorCode, BrokerErrorCode } from "./errors.js";
export { encodeRoutingHeader, decodeRoutingHeader } from "./routing-header.js";
export type { RoutingHeader } from "./routing-header.js";
export { encodeRequestHead, decodeRequestHead, clampTimeout, MAX_TIMEOUT_MS } from "./request-head.js";
export { encodeErrorBody, decodeErrorBody } from "./error-body.js";
export {
  encodeRegistration,
  decodeRegistration,
  encodeRegistrationAck,
  decodeRegistrationAck,
  RegistrationTag,
} from "./registration.js";
export type { Registration, RegistrationAck } from "./registration.js";
export { encodeCredit, decodeCredit, CREDIT_SIZE, MAX_WINDOW, MIN_STREAM_WINDOW, DEFAULT_STREAM_WINDOW } from "./credit.js";
export { encodeCapacity, decodeCapacity, CAPACITY_SIZE, MAX_CAPACITY } from "./capacity.js";
export { VERSION_1_0, LATEST_VERSION, HEADERS_SINCE_MINOR, FLOW_CONTROL_SINCE_MINOR, CAPACITY_SINCE_MINOR, compareVersions, negotiateVersion, formatVersion } from "./protocol-version.js";
export type { ProtocolVersion } from "./protocol-version.js";
export {
  encodeHeaderBlock,
  decodeHeaderBlock,
  headerBlockLength,
  NO_HEADERS,
  MAX_HEADER_ENTRIES,
  MAX_HEADER_BLOCK_BYTES,
  MAX_HEADER_NAME_BYTES,
} from "./header-block.js";
export type { Headers } from "./header-block.js";
export { newId, newIdString, idToBytes, idToString } from "./ids.js";
export { channelIdFor, CHANNEL_NAMESPACE } from "./channel-id.js";
export {
  AnetDecoder,
  encodeAnetFrame,
  writeAnetHead,
  refuseOversizedAnetBody,
  maxAnetBody,
  TASK_ID_SIZE,
  MAX_ANET_BODY_U16,
} from "./anet-codec.js";
export type { AnetCodecOptions, AnetFrame, AnetLengthSize } from "./anet-codec.js";
export { AnetError, InvalidMsgLengthError, MaxLenExceededError } from "./anet-errors.js";
export type { AnetErrorCode } from "./anet-errors.js";
export { LengthPrefixedSplitter, MIN_PART } from "./length-prefixed-splitter.js";
export type { PayloadLengthReader, FrameBuilder, PartsPolicy } from "./length-prefixed-splitter.js";
