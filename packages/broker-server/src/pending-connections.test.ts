import { describe, expect, it } from "vitest";
import { addressShareKey, PendingConnections } from "./pending-connections.js";

describe("addressShareKey", () => {
  it("keeps an IPv4 address, unwraps an IPv4-mapped one, and counts IPv6 by its /64", () => {
    expect(addressShareKey("10.1.2.3")).toBe("10.1.2.3");
    expect(addressShareKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(addressShareKey("2001:db8:aa:bb:1:2:3:4")).toBe("2001:db8:aa:bb::/64");
    expect(addressShareKey("2001:db8:aa:bb::9")).toBe("2001:db8:aa:bb::/64");
    expect(addressShareKey("2001:0DB8:00aa:bb::9")).toBe("2001:db8:aa:bb::/64");
    expect(addressShareKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressShareKey("::1")).toBe("0:0:0:0::/64");
    expect(addressShareKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressShareKey(undefined)).toBe("?");
  });
});

describe("PendingConnections", () => {
  it("counts connections per address up to the share, frees a share on remove (idempotent), and calls onDeadline only for those still pending", async () => {
    const late: string[] = [];
    const pending = new PendingConnections<string>(30, 2, (connection) => late.push(connection));
    pending.add("a1", "A");
    pending.add("a2", "A");
    expect(pending.hasRoom("A")).toBe(false);
    expect(pending.hasRoom("B")).toBe(true);
    pending.remove("a1");
    pending.remove("a1");
    expect(pending.hasRoom("A")).toBe(true);
    pending.add("b1", "B");
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(late.sort()).toEqual(["a2", "b1"]);
    expect(pending.size).toBe(0);
    expect(pending.hasRoom("A")).toBe(true);
  });
});
