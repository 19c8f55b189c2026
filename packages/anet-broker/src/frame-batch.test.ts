import { type AnetCodecOptions, AnetDecoder, encodeAnetFrame, MaxLenExceededError } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { type BatchWriter, FrameBatch, refuseOversizedBody } from "./frame-batch.js";

/** A writer that records what it is given, and accepts until told otherwise. */
function recordingWriter() {
  const writes: Buffer[][] = [];
  const writer = {
    writes,
    accept: true,
    flushes: 0,
    write(parts: Buffer[]) {
      if (!writer.accept) return false;
      writes.push(parts);
      return true;
    },
    flush() {
      writer.flushes++;
    },
  };
  return writer satisfies BatchWriter;
}

const endOfTick = () => new Promise<void>((resolve) => setImmediate(resolve));

function wire(frames: Array<[number, Uint8Array]>, codec: AnetCodecOptions): Buffer {
  return Buffer.concat(frames.flatMap(([taskId, body]) => encodeAnetFrame(taskId, body, codec)));
}

describe.each([2, 4] as const)("FrameBatch with a %d-byte length prefix", (lengthSize) => {
  const codec = { lengthSize };

  it("writes the frames added in one tick as one buffer, byte for byte what encodeAnetFrame makes", async () => {
    const writer = recordingWriter();
    const batch = new FrameBatch(writer, codec, () => {});
    const frames: Array<[number, Uint8Array]> = [
      [1, Buffer.from("first")],
      [0xffff_ffff, Buffer.alloc(0)],
      [7, new Uint8Array([1, 2, 3])],
    ];
    for (const [taskId, body] of frames) expect(batch.add(taskId, body)).toBe(true);
    expect(batch.size).toBe(3);
    expect(writer.writes).toHaveLength(0);
    await endOfTick();
    expect(writer.writes).toHaveLength(1);
    expect(writer.writes[0]).toHaveLength(1);
    expect(writer.writes[0]![0]!.equals(wire(frames, codec))).toBe(true);
    expect(writer.flushes).toBe(1);
    expect(batch.size).toBe(0);
  });

  it("hands a large body over uncopied after the frames before it, keeping their order", async () => {
    const writer = recordingWriter();
    const batch = new FrameBatch(writer, codec, () => {});
    const large = Buffer.alloc(20_000, 0x5a);
    batch.add(1, Buffer.from("before"));
    batch.add(2, large);
    batch.add(3, Buffer.from("after"));
    await endOfTick();
    const parts = writer.writes.flat();
    expect(parts.some((part) => part === large)).toBe(true);
    const frames = new AnetDecoder(codec).push(Buffer.concat(parts));
    expect(frames.map((frame) => frame.taskId)).toEqual([1, 2, 3]);
    expect(frames[1]!.body.equals(large)).toBe(true);
  });

  it("writes at once, without waiting for the tick's end, once 256 KiB are waiting", () => {
    const writer = recordingWriter();
    const batch = new FrameBatch(writer, codec, () => {});
    const body = Buffer.alloc(8 * 1024);
    for (let i = 0; i < 32 && writer.writes.length === 0; i++) batch.add(i, body);
    expect(writer.writes).toHaveLength(1);
    expect(new AnetDecoder(codec).push(writer.writes[0]![0]!)).toHaveLength(32);
  });
});

describe("FrameBatch", () => {
  it("refuses a body over the codec's limit with MaxLenExceededError and queues nothing", async () => {
    const writer = recordingWriter();
    const batch = new FrameBatch(writer, { maxBodyBytes: 10 }, () => {});
    expect(() => batch.add(1, Buffer.alloc(11))).toThrow(MaxLenExceededError);
    expect(batch.size).toBe(0);
    await endOfTick();
    expect(writer.writes).toHaveLength(0);
  });

  it("tells its owner when the writer refuses a batch it had accepted", async () => {
    const writer = recordingWriter();
    let refused = 0;
    const batch = new FrameBatch(writer, {}, () => refused++);
    writer.accept = false;
    expect(batch.add(1, Buffer.from("x"))).toBe(true);
    await endOfTick();
    expect(refused).toBe(1);
  });

  it("returns false when the writer refuses a large frame", () => {
    const writer = recordingWriter();
    writer.accept = false;
    expect(new FrameBatch(writer, {}, () => {}).add(1, Buffer.alloc(20_000))).toBe(false);
  });

  it("writes nothing of what was cleared", async () => {
    const writer = recordingWriter();
    const batch = new FrameBatch(writer, {}, () => {});
    batch.add(1, Buffer.from("dropped"));
    batch.clear();
    await endOfTick();
    expect(writer.writes).toHaveLength(0);
    batch.add(2, Buffer.from("kept"));
    await endOfTick();
    expect(new AnetDecoder().push(writer.writes[0]![0]!).map((frame) => frame.taskId)).toEqual([2]);
  });
});

describe("refuseOversizedBody", () => {
  it("throws protocol's MaxLenExceededError only above the limit", () => {
    expect(() => refuseOversizedBody(Buffer.alloc(65_531), 65_531, {})).not.toThrow();
    expect(() => refuseOversizedBody(Buffer.alloc(65_532), 65_531, {})).toThrow(MaxLenExceededError);
  });
});
