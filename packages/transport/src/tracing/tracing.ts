import type * as OtelApi from "@opentelemetry/api";
import type { Context, Span } from "@opentelemetry/api";
import type { Headers } from "@switchyard/protocol";

type Api = typeof OtelApi;

/** `messaging.system` of every span: this product. */
const SYSTEM = "switchyard";

/** The span of one request, as a client records it. Opaque to callers: only Tracing reads it. */
export type RequestSpan = Span;

/**
 * OpenTelemetry spans for requests, after the messaging semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/messaging/): a consumer's `send <channel>` span
 * (kind CLIENT: it lasts until the response, as an RPC client's does) and a provider's
 * `process <channel>` span (kind SERVER), the provider's a child of the consumer's through the
 * W3C trace context the consumer puts in the request's headers (`traceparent`, `tracestate`,
 * `baggage`: whatever the global propagator writes). Made only when `@opentelemetry/api` is
 * installed (loadTracing); without it no span, no header and no import.
 */
export class Tracing {
  readonly #api: Api;
  readonly #tracer: OtelApi.Tracer;
  /** The class of the API's no-op provider, which a ProxyTracerProvider delegates to until an SDK registers one. */
  readonly #noopProvider: unknown;

  constructor(api: Api) {
    this.#api = api;
    this.#tracer = api.trace.getTracer("@switchyard/clients");
    this.#noopProvider = new api.ProxyTracerProvider().getDelegate().constructor;
  }

  /**
   * True when a tracer provider is registered (an SDK is set up). The API alone is a dependency of
   * many libraries, and without an SDK its spans record nothing: then no span is made, no header
   * added, and a request costs this check only.
   */
  get active(): boolean {
    const provider = this.#api.trace.getTracerProvider();
    return !(provider instanceof this.#api.ProxyTracerProvider) || provider.getDelegate().constructor !== this.#noopProvider;
  }

  /** Starts a consumer's span for one request on `channelId`, a child of the active context (callers check `active` first). */
  startSend(channelId: string, clientId: string, bodyBytes: number | undefined): RequestSpan {
    const attributes: OtelApi.Attributes = {
      "messaging.system": SYSTEM,
      "messaging.operation.type": "send",
      "messaging.operation.name": "send",
      "messaging.destination.name": channelId,
      "messaging.client.id": clientId,
    };
    if (bodyBytes !== undefined) attributes["messaging.message.body.size"] = bodyBytes;
    return this.#tracer.startSpan(`send ${channelId}`, { kind: this.#api.SpanKind.CLIENT, attributes });
  }

  /**
   * `headers` with the span's trace context added by the global propagator (the caller's own
   * headers win over nothing: the propagator's names are added, the rest kept).
   */
  inject(span: RequestSpan, headers: Headers | undefined): Record<string, string> {
    const carrier: Record<string, string> = { ...headers };
    this.#api.propagation.inject(this.#api.trace.setSpan(this.#api.context.active(), span), carrier);
    return carrier;
  }

  /** Starts a provider's span for a request, a child of the trace context its headers carry (callers check `active` first). */
  startProcess(channelId: string, requestId: string, headers: Headers, bodyBytes: number): { span: RequestSpan; context: Context } {
    const api = this.#api;
    const parent = api.propagation.extract(api.ROOT_CONTEXT, headers);
    const span = this.#tracer.startSpan(
      `process ${channelId}`,
      {
        kind: api.SpanKind.SERVER,
        attributes: {
          "messaging.system": SYSTEM,
          "messaging.operation.type": "process",
          "messaging.operation.name": "process",
          "messaging.destination.name": channelId,
          "messaging.message.id": requestId,
          "messaging.message.body.size": bodyBytes,
        },
      },
      parent,
    );
    return { span, context: api.trace.setSpan(parent, span) };
  }

  /** Runs `fn` with `context` active, so the handler's own spans are children of the request's. */
  within<T>(context: Context, fn: () => T): T {
    return this.#api.context.with(context, fn);
  }

  /** Names the request's id once it has one (`messaging.message.id`). */
  setMessageId(span: RequestSpan, requestId: string): void {
    span.setAttribute("messaging.message.id", requestId);
  }

  /**
   * Ends a span: with `error`, status ERROR and `error.type` its code (a Switchyard error's stable
   * `code`, else its name); with `responseBytes`, the response body's size.
   */
  end(span: RequestSpan, error: Error | null, responseBytes?: number): void {
    if (responseBytes !== undefined) span.setAttribute("switchyard.response.body.size", responseBytes);
    if (error !== null) {
      const code = (error as { code?: unknown }).code;
      span.setAttribute("error.type", typeof code === "string" ? code : error.name);
      span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: error.message });
    }
    span.end();
  }
}

let loading: Promise<Tracing | null> | null = null;

/**
 * Tracing when `@opentelemetry/api` can be imported, else null: imported once per process, at the
 * first client's connect, and cached. Without the package nothing else is loaded or done.
 */
export function loadTracing(): Promise<Tracing | null> {
  loading ??= import("@opentelemetry/api").then(
    (api) => new Tracing(api),
    () => null,
  );
  return loading;
}
