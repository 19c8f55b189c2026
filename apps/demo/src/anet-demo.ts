import { Broker, createAnetServer, createPoolList, tcpFactory } from "@switchyard/anet-broker";
import { check } from "./check.js";

type Log = (line: string) => void;

/** The original anet example's five strings. */
const EXAMPLE = ["hello", "world", "anet test", "concurrent", "request"];
/** Requests of the pipelined burst. */
const BURST = 10_000;

/**
 * The anet part of the demo: an echo service, a Broker over a pool of 5 connections, the original
 * example's five concurrent strings, then a burst of pipelined requests. Every answer is checked
 * against its request; everything started here is closed before it returns.
 */
export async function runAnetDemo(log: Log): Promise<void> {
  const server = createAnetServer((body) => body);
  const { host, port } = await server.listen(0, "127.0.0.1");
  const address = `${host}:${port}`;
  log(`  echo service listening on ${address}`);
  // The burst is sent all at once: the queue must hold what the connections cannot carry yet
  // (the default of 1 000 would refuse the rest with QUEUE_FULL, on purpose).
  const broker = new Broker(createPoolList(5, tcpFactory(), [address]), { workers: 3, queueSize: BURST });
  broker.start();
  try {
    await originalExample(broker, log);
    await pipelinedBurst(broker, log);
  } finally {
    await broker.close();
    await server.close();
  }
}

async function originalExample(broker: Broker, log: Log): Promise<void> {
  await Promise.all(
    EXAMPLE.map(async (text) => {
      log(`  client sending: ${text}`);
      const response = await broker.send(Buffer.from(text), { timeout: 2000 });
      log(`  client received response for '${text}': ${response}`);
      check(response.toString() === text, `the echo of '${text}' is '${text}'`);
    }),
  );
}

async function pipelinedBurst(broker: Broker, log: Log): Promise<void> {
  const bodies = Array.from({ length: BURST }, (_, i) => Buffer.from(`burst request ${i}`));
  const started = performance.now();
  const responses = await Promise.all(bodies.map((body) => broker.send(body)));
  const ms = performance.now() - started;
  const right = responses.filter((response, i) => response.equals(bodies[i]!)).length;
  const rate = Math.round((BURST / ms) * 1000).toLocaleString("en-US");
  log(`  ${BURST.toLocaleString("en-US")} pipelined requests over ${broker.stats().connections} connections: ${right} answered correctly in ${ms.toFixed(0)} ms (${rate} requests/s)`);
  check(right === BURST, "every pipelined request gets its own answer");
}
