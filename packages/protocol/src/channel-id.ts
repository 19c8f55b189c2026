import { v5 } from "uuid";
import { InvalidArgumentError } from "./errors.js";

/**
 * The namespace channel names are hashed in: the UUID v5 of the URL `urn:switchyard:channel` in
 * RFC 9562's URL namespace. Fixed forever: changing it would move every named channel.
 */
export const CHANNEL_NAMESPACE = "3d4b0f35-c08c-5bab-9173-e918030e9544";

/**
 * The channel id (a UUID string) for a channel name: its UUID v5 in CHANNEL_NAMESPACE, so every
 * consumer and provider that names a channel the same way meets on the same id, with nothing to
 * share but the name. Names are compared as their UTF-8 bytes: `"orders"` and `"Orders"` are two
 * channels. A name that is not a non-empty string throws InvalidArgumentError.
 *
 * ```ts
 * channelIdFor("orders"); // "f1547e1e-da69-5e91-b317-a1caa57a6276"
 * ```
 */
export function channelIdFor(name: string): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidArgumentError(`a channel name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  return v5(name, CHANNEL_NAMESPACE);
}
