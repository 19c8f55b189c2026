/**
 * Micro-benchmark behind @switchyard/protocol's COPY_THRESHOLD: is a frame cheaper as one buffer
 * (allocUnsafe, header, payload copied behind it) or as [header, payload view]?
 *
 * Two measures per payload size:
 *   encode   the encoding alone, in ns per frame;
 *   socket   encoding plus writing to a real TCP socket the way a writer does it (batches of
 *            BATCH frames: cork, write each buffer, uncork, then yield a tick or wait for 'drain'),
 *            against a sink in another process that reads and discards; ns per frame, end to end.
 *
 * Run (Node 20 has no TypeScript stripping, so through tsx; the import needs protocol's dist):
 *   pnpm turbo run build --filter=@switchyard/protocol
 *   cd apps/bench && npx tsx src/micro/protocol-encode.ts [--quick]
 *
 * Prints a table and the largest measured size up to which copying is not slower over the socket
 * (within 5%, a tie). 512 B is measured too, between the 256 B and 1 KiB of the original plan,
 * because that is where the two cross.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { COPY_THRESHOLD, FrameType, HEADER_SIZE, writeFrameHeader } from "@switchyard/protocol";

const SIZES = [16, 64, 256, 512, 1024, 2048, 4096, 16384, 65536];
const QUICK = process.argv.includes("--quick");
/** Measured rounds per strategy and size; the median is reported. */
const ROUNDS = QUICK ? 3 : 7;
/** Length of one socket round, in ms. */
const SOCKET_ROUND_MS = QUICK ? 100 : 250;
/** Length of one encode round, in ms. */
const ENCODE_ROUND_MS = QUICK ? 20 : 50;
/** Frames per corked write: what one tick of a busy connection produces. */
const BATCH = 64;

type Strategy = (payload: Buffer) => Buffer[];

const requestId = Buffer.alloc(16, 7);

const strategies: Record<"copy" | "gather", Strategy> = {
  /** (a) one allocation: header written, payload copied behind it. */
  copy: (payload) => {
    const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
    writeFrameHeader(frame, 0, FrameType.CHUNK, 0, requestId, payload.length);
    frame.set(payload, HEADER_SIZE);
    return [frame];
  },
  /** (b) a header buffer of its own, the payload passed on uncopied. */
  gather: (payload) => {
    const header = Buffer.allocUnsafe(HEADER_SIZE);
    writeFrameHeader(header, 0, FrameType.CHUNK, 0, requestId, payload.length);
    return [header, payload];
  },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Keeps results observable so the work cannot be optimised away. */
let sink = 0;

/** ns per frame of encoding alone, over one round of about ENCODE_ROUND_MS. */
function encodeRound(strategy: Strategy, payload: Buffer): number {
  let frames = 0;
  const start = nowNs();
  const deadline = start + ENCODE_ROUND_MS * 1e6;
  while (nowNs() < deadline) {
    for (let i = 0; i < 1000; i++) sink ^= strategy(payload).length;
    frames += 1000;
  }
  return (nowNs() - start) / frames;
}

/** ns per frame of encoding and writing to `socket`, until the last byte is handed to the kernel. */
async function socketRound(socket: Socket, strategy: Strategy, payload: Buffer): Promise<number> {
  let frames = 0;
  const start = nowNs();
  const deadline = start + SOCKET_ROUND_MS * 1e6;
  while (nowNs() < deadline) {
    socket.cork();
    for (let i = 0; i < BATCH; i++) for (const part of strategy(payload)) socket.write(part);
    socket.uncork();
    frames += BATCH;
    if (socket.writableNeedDrain) await once(socket, "drain");
    else await new Promise(setImmediate);
  }
  await new Promise((resolve) => socket.write(Buffer.alloc(1), resolve)); // callbacks run in order: all flushed
  return (nowNs() - start) / frames;
}

/** Rounds of each strategy, interleaved so drift (GC, turbo boost, neighbours) hits both alike. */
async function compare(round: (strategy: Strategy) => number | Promise<number>): Promise<{ copy: number; gather: number }> {
  await round(strategies.copy); // warm-up, discarded
  await round(strategies.gather);
  const copy: number[] = [];
  const gather: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    copy.push(await round(strategies.copy));
    gather.push(await round(strategies.gather));
  }
  return { copy: median(copy), gather: median(gather) };
}

/** A TCP sink in its own process (so reading does not share our core): prints its port, discards. */
const SINK_SOURCE = `
const server = require("node:net").createServer((s) => { s.on("data", () => {}); s.on("error", () => {}); });
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

async function startSink(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["-e", SINK_SOURCE], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  return { child, port: Number(line.toString().trim()) };
}

interface Row {
  size: number;
  encode: { copy: number; gather: number };
  socket: { copy: number; gather: number };
}

function format(rows: Row[]): string {
  const ns = (value: number) => value.toFixed(value < 100 ? 1 : 0);
  const lines = [
    "| payload B | encode copy ns | encode gather ns | copy/gather | socket copy ns/frame | socket gather ns/frame | copy/gather | socket copy MB/s | socket gather MB/s |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const { size, encode, socket } of rows) {
    const mbps = (nsPerFrame: number) => ((size / nsPerFrame) * 1e3).toFixed(0);
    lines.push(
      `| ${size} | ${ns(encode.copy)} | ${ns(encode.gather)} | ${(encode.copy / encode.gather).toFixed(2)} | ` +
        `${ns(socket.copy)} | ${ns(socket.gather)} | ${(socket.copy / socket.gather).toFixed(2)} | ${mbps(socket.copy)} | ${mbps(socket.gather)} |`,
    );
  }
  return lines.join("\n");
}

/** Socket results closer than this ratio are a tie: rounds on two noisy cores vary about as much. */
const TIE = 1.05;

/** The largest measured size up to which copying is never slower (beyond a tie) over the socket. */
function crossover(rows: Row[]): number {
  let threshold = 0;
  for (const row of rows) {
    if (row.socket.copy > row.socket.gather * TIE) break;
    threshold = row.size;
  }
  return threshold;
}

async function main(): Promise<void> {
  const { child, port } = await startSink();
  const socket = connect(port, "127.0.0.1");
  try {
    await once(socket, "connect");
    const rows: Row[] = [];
    for (const size of SIZES) {
      const payload = Buffer.alloc(size, 0x5a);
      const encode = await compare((strategy) => encodeRound(strategy, payload));
      const overSocket = await compare((strategy) => socketRound(socket, strategy, payload));
      rows.push({ size, encode, socket: overSocket });
      process.stderr.write(`measured ${size} B\n`);
    }
    console.log(`node ${process.version}, ${ROUNDS} rounds (median), socket batches of ${BATCH} frames${QUICK ? ", --quick" : ""}`);
    console.log(format(rows));
    console.log(`copying is not slower (within ${Math.round((TIE - 1) * 100)}%) over the socket up to ${crossover(rows)} B (COPY_THRESHOLD is now ${COPY_THRESHOLD}); sink ${sink & 1}`);
  } finally {
    socket.destroy();
    child.kill();
  }
}

await main();
