import { describe, expect, it } from "vitest";
import { EVENT_BUFFER, EventFeed } from "./event-feed.js";

describe("EventFeed", () => {
  it("a reader that does not read keeps only the newest EVENT_BUFFER events and counts the dropped ones", async () => {
    const feed = new EventFeed<number>();
    const reader = feed.iterator() as AsyncIterableIterator<number> & { dropped: number };
    for (let i = 1; i <= EVENT_BUFFER + 37; i++) feed.publish(i);
    feed.end();
    const seen: number[] = [];
    for await (const event of reader) seen.push(event);
    expect(seen).toHaveLength(EVENT_BUFFER);
    expect(reader.dropped).toBe(37);
    expect(seen[0]).toBe(38);
    expect(seen.at(-1)).toBe(EVENT_BUFFER + 37);
    // a reader made after the end ends at once; publishing after the end reaches nobody
    feed.publish(0);
    expect(await feed.iterator().next()).toEqual({ done: true, value: undefined });
  });

  it("a waiting reader gets each event at once, every reader gets every event, and one that leaves is forgotten", async () => {
    const feed = new EventFeed<string>();
    const a = feed.iterator();
    const b = feed.iterator();
    const waiting = a.next();
    feed.publish("x");
    expect(await waiting).toEqual({ done: false, value: "x" });
    expect(await b.next()).toEqual({ done: false, value: "x" });
    await b.return!();
    feed.publish("y");
    expect(await b.next()).toEqual({ done: true, value: undefined });
    expect(await a.next()).toEqual({ done: false, value: "y" });
    const last = a.next();
    feed.end();
    expect(await last).toEqual({ done: true, value: undefined });
  });
});
