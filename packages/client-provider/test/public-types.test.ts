import { describe, expect, expectTypeOf, it } from "vitest";
import * as api from "../src/index.js";
import type { Handler, ProviderOptions, ProviderRequest, RequestContext } from "../src/index.js";

// The type assertions are checked by `pnpm typecheck` (tsc); the runtime ones by vitest.
describe("the public API of client-provider", () => {
  it("exports no request class: a handler's ctx and what requests() yields are interfaces", () => {
    expect(Object.keys(api)).not.toContain("ProviderRequest");
    expect(Object.keys(api)).not.toContain("InboundRequest");
    expectTypeOf<Parameters<Handler>[1]>().toEqualTypeOf<RequestContext>();
    expectTypeOf<ReturnType<api.Provider["requests"]>>().toEqualTypeOf<AsyncIterableIterator<ProviderRequest>>();
    expectTypeOf<ProviderRequest>().toExtend<RequestContext>();
  });

  it("shows a request's users only what they may call", () => {
    expectTypeOf<keyof RequestContext>().toEqualTypeOf<"signal" | "requestId" | "clientId" | "channelId" | "timeoutMs" | "headers" | "body">();
    // ctx.body reads as Buffers, not `any`
    expectTypeOf<RequestContext["body"][typeof Symbol.asyncIterator]>().returns.toEqualTypeOf<AsyncIterableIterator<Buffer>>();
    expectTypeOf<Exclude<keyof ProviderRequest, keyof RequestContext>>().toEqualTypeOf<"payload" | "respond" | "fail">();
  });

  it("declares only the options a provider honours (no connection internals)", () => {
    expectTypeOf<ProviderOptions>().not.toHaveProperty("keepChunkParts");
    expectTypeOf<ProviderOptions>().not.toHaveProperty("reader");
    expectTypeOf<ProviderOptions>().not.toHaveProperty("maxPayload");
    expectTypeOf<ProviderOptions>().toHaveProperty("readTimeout");
  });
});
