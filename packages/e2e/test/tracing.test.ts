import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { BrokerError } from "@switchyard/client-provider";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

/*
 * OpenTelemetry across the broker: the consumer's `send <channel>` span and the provider's
 * `process <channel>` span, the second a child of the first through the W3C trace context the
 * consumer puts in the request's headers, over real TCP through a broker process.
 */

const exporter = new InMemorySpanExporter();
const tracer = () => trace.getTracer("test");

function spanNamed(name: string): ReadableSpan {
  const found = exporter.getFinishedSpans().filter((span) => span.name === name);
  expect(found, `spans named ${name}`).toHaveLength(1);
  return found[0]!;
}

describe("tracing with @opentelemetry/api installed", () => {
  const e2e = useE2E();

  beforeAll(() => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it("the provider's process span is a child of the consumer's send span across the broker, with the messaging attributes", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const seen: Array<Record<string, string>> = [];
    await e2e.provider(address, id, async (payload, ctx) => {
      seen.push({ ...ctx.headers });
      // the handler runs inside the process span: its own spans are its children
      await tracer().startActiveSpan("handler work", async (span) => span.end());
      return `ok ${payload}`;
    });
    const consumer = await e2e.consumer(address, id);
    await tracer().startActiveSpan("caller", async (caller) => {
      expect(String(await consumer.send("hello", 5000))).toBe("ok hello");
      caller.end();
    });

    const caller = spanNamed("caller");
    const send = spanNamed(`send ${id}`);
    const process = spanNamed(`process ${id}`);
    const work = spanNamed("handler work");
    const traceId = caller.spanContext().traceId;
    expect([send, process, work].map((span) => span.spanContext().traceId)).toEqual([traceId, traceId, traceId]);
    expect(send.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(process.parentSpanContext?.isRemote).toBe(true);
    expect(work.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(seen[0]!.traceparent).toBe(`00-${traceId}-${send.spanContext().spanId}-01`);

    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.attributes).toMatchObject({
      "messaging.system": "switchyard",
      "messaging.operation.type": "send",
      "messaging.destination.name": id,
      "messaging.client.id": consumer.clientId,
      "messaging.message.body.size": 5,
      "switchyard.response.body.size": 8,
    });
    expect(send.attributes["messaging.message.id"]).toMatch(/^[0-9a-f]{8}-/);
    expect(process.kind).toBe(SpanKind.SERVER);
    expect(process.attributes).toMatchObject({
      "messaging.system": "switchyard",
      "messaging.operation.type": "process",
      "messaging.destination.name": id,
      "messaging.message.body.size": 5,
    });
    expect(send.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(process.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("failures end both spans with status ERROR and error.type our code", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    await e2e.provider(address, id, (payload) => {
      if (String(payload) === "busy") throw new BrokerError("OVERLOADED", "too much");
      throw new Error("boom");
    });
    const consumer = await e2e.consumer(address, id);
    await expect(consumer.send("crash", 5000)).rejects.toMatchObject({ code: "HANDLER_ERROR" });
    let sends = exporter.getFinishedSpans().filter((span) => span.name === `send ${id}`);
    await expect.poll(() => exporter.getFinishedSpans().filter((span) => span.name === `process ${id}`).length).toBe(1);
    expect(sends[0]!.attributes["error.type"]).toBe("HANDLER_ERROR");
    expect(sends[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(spanNamed(`process ${id}`).attributes["error.type"]).toBe("HANDLER_ERROR");

    exporter.reset();
    await expect(consumer.send("busy", 5000)).rejects.toMatchObject({ code: "OVERLOADED" });
    await expect.poll(() => exporter.getFinishedSpans().filter((span) => span.name === `process ${id}`).length).toBe(1);
    expect(spanNamed(`send ${id}`).attributes["error.type"]).toBe("OVERLOADED");
    expect(spanNamed(`process ${id}`).attributes["error.type"]).toBe("OVERLOADED");

    exporter.reset();
    const lonely = await e2e.consumer(address, channel());
    await expect(lonely.send("anyone?", 5000)).rejects.toMatchObject({ code: "NO_PROVIDER" });
    sends = exporter.getFinishedSpans().filter((span) => span.name.startsWith("send "));
    expect(sends.map((span) => span.attributes["error.type"])).toEqual(["NO_PROVIDER"]);
  });
});
