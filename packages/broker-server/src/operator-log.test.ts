import { newId } from "@switchyard/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { recordingLogger as recorder } from "../test/recording-logger.js";
import { OperatorLog } from "./operator-log.js";
import type { Peer } from "./peer.js";

const peer = { describe: () => ({ conn: 7, remote: "10.0.0.9:5123", clientName: "billing", channel: "c0ffee00-0000-4000-8000-000000000000", clientId: newId().toString("hex") }) } as unknown as Peer;

afterEach(() => {
  vi.useRealTimers();
});

describe("OperatorLog", () => {
  it("writes the first line of a kind with who and where, then one summary per 10 s window of the flood", () => {
    vi.useFakeTimers();
    const { logger, warnings } = recorder();
    const log = new OperatorLog(logger);
    for (let i = 0; i < 4813; i++) log.registrationRefused(peer, "UNAUTHORIZED", "registration refused: bad token");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toBe("registration refused");
    expect(warnings[0]!.fields).toMatchObject({ remote: "10.0.0.9:5123", clientName: "billing", channel: expect.any(String), code: "UNAUTHORIZED" });

    vi.advanceTimersByTime(10_000);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]!.message).toBe("registration refused (UNAUTHORIZED) … and 4 812 more in the last 10 s");
    expect(warnings[1]!.fields).toMatchObject({ code: "UNAUTHORIZED", more: 4812 });

    // still limited in the next window; a quiet window ends the limit
    log.registrationRefused(peer, "UNAUTHORIZED", "again");
    expect(warnings).toHaveLength(2);
    vi.advanceTimersByTime(10_000);
    expect(warnings.at(-1)!.message).toMatch(/… and 1 more in the last 10 s$/);
    vi.advanceTimersByTime(10_000);
    log.registrationRefused(peer, "UNAUTHORIZED", "after a quiet window");
    expect(warnings.at(-1)!.message).toBe("registration refused");
    log.close();
  });

  it("limits each kind on its own and says what is still counted when closed", () => {
    vi.useFakeTimers();
    const { logger, warnings } = recorder();
    const log = new OperatorLog(logger);
    log.overloaded(peer);
    log.overloaded(peer);
    log.connectionClosed(peer, "SLOW_PEER", "undrained for 5000 ms");
    log.connectionClosed(peer, "IDLE_TIMEOUT", "nothing received for 120000 ms");
    log.connectionClosed(peer, "PROTOCOL_ERROR", "bad frame");
    expect(warnings.map((line) => line.message)).toEqual([
      "request refused with OVERLOADED",
      "closed a slow peer",
      "closed an idle connection",
      "closed a connection for a protocol violation",
    ]);
    log.close();
    expect(warnings.at(-1)!.message).toBe("request refused with OVERLOADED (OVERLOADED) … and 1 more in the last 10 s");
    expect(vi.getTimerCount()).toBe(0);
  });
});
