import { describe, expect, it } from "vitest";
import { type Lookup, parseAddressList, rendezvousWeight, resolveAddressList } from "../../src/internal.js";

describe("a fleet's address list", () => {
  it("takes one address or a non-empty array, and names a bad entry", () => {
    expect(parseAddressList("127.0.0.1:9090")).toEqual([{ host: "127.0.0.1", port: 9090, scheme: null }]);
    expect(parseAddressList(["tls://a:1", "tcp://b:2"]).map((entry) => entry.scheme)).toEqual(["tls", "tcp"]);
    expect(() => parseAddressList([])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining("empty") }));
    expect(() => parseAddressList(["a:1", "b"])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining('addresses[1] "b"') }));
    expect(() => parseAddressList(["a:1", "http://b:2"])).toThrow(expect.objectContaining({ message: expect.stringContaining("addresses[1]") }));
    expect(() => parseAddressList(42 as unknown as string)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("resolves a host name to one broker per address of one family, keeps IPs as they are, and counts duplicates once", async () => {
    const asked: string[] = [];
    const lookup: Lookup = async (host) => {
      asked.push(host);
      return [
        { address: "10.0.0.1", family: 4 },
        { address: "fd00::1", family: 6 },
        { address: "10.0.0.2", family: 4 },
      ];
    };
    const brokers = await resolveAddressList(parseAddressList(["tls://switchyard.svc:9090", "10.0.0.9:9090", "10.0.0.9:9090"]), lookup);
    expect(asked).toEqual(["switchyard.svc"]);
    expect(brokers).toEqual([
      { key: "tls://10.0.0.1:9090", address: "tls://10.0.0.1:9090", hostname: "switchyard.svc" },
      { key: "tls://10.0.0.2:9090", address: "tls://10.0.0.2:9090", hostname: "switchyard.svc" },
      { key: "10.0.0.9:9090", address: "10.0.0.9:9090", hostname: null },
    ]);
  });

  it("rejects when a name does not resolve", async () => {
    const lookup: Lookup = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere"), { code: "ENOTFOUND" });
    };
    await expect(resolveAddressList(parseAddressList("nowhere:9090"), lookup)).rejects.toThrow("ENOTFOUND");
  });
});

describe("rendezvous weights", () => {
  it("spread clients evenly over brokers, and a broker's loss moves only its clients", () => {
    const brokers = ["10.0.0.1:9090", "10.0.0.2:9090", "10.0.0.3:9090"];
    const first = (clientId: string, among: string[]) => among.reduce((best, key) => (rendezvousWeight(clientId, key) > rendezvousWeight(clientId, best) ? key : best));
    const ids = Array.from({ length: 3000 }, (_, index) => `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`);
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(first(id, brokers), (counts.get(first(id, brokers)) ?? 0) + 1);
    for (const broker of brokers) expect(counts.get(broker)).toBeGreaterThan(900);
    for (const broker of brokers) expect(counts.get(broker)).toBeLessThan(1100);
    const survivors = brokers.slice(1);
    for (const id of ids) if (first(id, brokers) !== brokers[0]) expect(first(id, survivors)).toBe(first(id, brokers));
  });

  it("give 30 consumers on three brokers 6–14 each in about 81% of layouts, as independent uniform choices would", () => {
    // Rendezvous hashing is as even as a fair die per client, no more: P(every broker gets 6–14)
    // is 0.815 for Multinomial(30; 1/3, 1/3, 1/3), and P(some broker gets under 3) is 0.002. A
    // biased hash (one broker favoured, or ids clustering) moves the share out of this band.
    const layouts = 2000;
    let even = 0;
    let starved = 0;
    for (let layout = 0; layout < layouts; layout++) {
      const brokers = [1, 2, 3].map((host) => `10.${layout >> 8}.${layout & 255}.${host}:${9000 + layout}`);
      const counts = [0, 0, 0];
      for (let client = 0; client < 30; client++) {
        const id = `00000000-0000-4000-8000-${(layout * 30 + client).toString(16).padStart(12, "0")}`;
        const weights = brokers.map((broker) => rendezvousWeight(id, broker));
        counts[weights.indexOf(Math.max(...weights))]!++;
      }
      if (counts.every((count) => count >= 6 && count <= 14)) even++;
      if (counts.some((count) => count < 3)) starved++;
    }
    // ±5 standard deviations of a share over 2000 layouts (0.0087).
    expect(even / layouts).toBeGreaterThan(0.77);
    expect(even / layouts).toBeLessThan(0.86);
    expect(starved / layouts).toBeLessThan(0.01);
  });
});
