import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHANNEL_NAMESPACE, channelIdFor, idToBytes, idToString } from "./index.js";

/** RFC 9562 §5.5, written out here independently of the uuid package: SHA-1 of namespace + name. */
function uuidV5(name: string, namespace: string): string {
  const hash = createHash("sha1").update(idToBytes(namespace)).update(name, "utf8").digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  return idToString(bytes);
}

/** RFC 9562's URL namespace. */
const NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

describe("channelIdFor", () => {
  it("uses a namespace that is the UUID v5 of urn:switchyard:channel in the URL namespace", () => {
    expect(CHANNEL_NAMESPACE).toBe(uuidV5("urn:switchyard:channel", NAMESPACE_URL));
  });

  it("gives the ids documented for these names (changing one moves a channel: a breaking change)", () => {
    expect(channelIdFor("orders")).toBe("f1547e1e-da69-5e91-b317-a1caa57a6276");
    expect(channelIdFor("payments.authorize")).toBe("b982c37e-39e1-5d22-afed-30591150a3d1");
    expect(channelIdFor("é")).toBe("e3eb458b-aef2-54f4-b1c5-07120144255f");
  });

  it("is the UUID v5 of any name in the namespace: the same name the same id, a version-5 UUID idToBytes accepts", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: "binary" }), (name) => {
        const id = channelIdFor(name);
        expect(id).toBe(uuidV5(name, CHANNEL_NAMESPACE));
        expect(channelIdFor(name)).toBe(id);
        expect(id[14]).toBe("5");
        expect(idToBytes(id)).toHaveLength(16);
      }),
    );
  });

  it("gives different names different ids, case included", () => {
    expect(channelIdFor("orders")).not.toBe(channelIdFor("Orders"));
    expect(channelIdFor("orders")).not.toBe(channelIdFor("orders "));
  });

  it("refuses a name that is not a non-empty string with INVALID_ARGUMENT", () => {
    for (const bad of ["", undefined, null, 42, { name: "orders" }]) {
      expect(() => channelIdFor(bad as string)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining("channel name") }));
    }
  });
});
