import type { InPlaceDecoder } from "./socket-reader.js";

/**
 * A wire format as a FramedConnection speaks it — the strategy that makes one connection class
 * serve both of Switchyard's formats: broker frames (BrokerFrames, here) and anet frames
 * (anet-broker's AnetFrames). A format makes the decoder that splits what arrives into frames; it
 * also encodes what leaves, each frame's head straight into the connection's SocketWriter batch
 * (SocketWriter.beginFrame/endFrame), through methods of its own, since each format's frames carry
 * different fields.
 */
export interface WireFormat<In> {
  /** A new decoder, one per connection: it holds the partial frame between reads. */
  decoder(): InPlaceDecoder<In>;
}
