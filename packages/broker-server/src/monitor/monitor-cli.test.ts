import { describe, expect, it } from "vitest";
import { parseCli, usage } from "../cli-options.js";
import { BrokerServer } from "../broker-server.js";

describe("the monitor's CLI flags", () => {
  it("read --monitor HOST:PORT with its token and per-channel flag, or SWITCHYARD_MONITOR*, flags winning", () => {
    expect(parseCli(["--monitor", "0.0.0.0:9091", "--monitor-token", "t", "--metrics-per-channel"], {}).options.monitor).toEqual({
      host: "0.0.0.0",
      port: 9091,
      token: "t",
      perChannelMetrics: true,
    });
    expect(parseCli([], { SWITCHYARD_MONITOR: "[::1]:0", SWITCHYARD_METRICS_PER_CHANNEL: "1" }).options.monitor).toEqual({ host: "::1", port: 0, perChannelMetrics: true });
    expect(parseCli(["--monitor", "127.0.0.1:1"], { SWITCHYARD_MONITOR: "127.0.0.1:2" }).options.monitor).toMatchObject({ port: 1 });
    expect(parseCli([], {}).options.monitor).toBeUndefined();
    expect(usage()).toMatch(/--monitor <host:port>.*\[SWITCHYARD_MONITOR\]/);
  });

  it("refuse a bad address, TLS, and a token or per-channel flag without --monitor, naming the flag", () => {
    expect(() => parseCli(["--monitor", "9091"], {})).toThrow(/--monitor "9091" has no port/);
    expect(() => parseCli(["--monitor", "localhost:70000"], {})).toThrow(/--monitor .* between 0 and 65535/);
    expect(() => parseCli([], { SWITCHYARD_MONITOR: "tls://127.0.0.1:9091" })).toThrow(/SWITCHYARD_MONITOR .* plain HTTP, not TLS/);
    expect(() => parseCli(["--monitor-token", "t"], {})).toThrow(/--monitor-token needs --monitor HOST:PORT/);
    expect(() => parseCli(["--metrics-per-channel"], {})).toThrow(/--metrics-per-channel needs --monitor/);
    expect(() => parseCli(["--monitor", "127.0.0.1:0"], { SWITCHYARD_METRICS_PER_CHANNEL: "yes" })).toThrow(/SWITCHYARD_METRICS_PER_CHANNEL must be 1 or true/);
  });

  it("check the BrokerServer option at construction, naming the field", () => {
    expect(() => new BrokerServer({ monitor: { port: -1 } })).toThrow(/monitor.port must be a whole number/);
    expect(() => new BrokerServer({ monitor: { host: "" } })).toThrow(/monitor.host must be a non-empty string/);
    expect(() => new BrokerServer({ monitor: { token: "" } })).toThrow(/monitor.token must be a non-empty string/);
  });

  it("without the option there is no monitor; with it, start() listens there and stop() closes it", async () => {
    const plain = new BrokerServer({ port: 0 });
    await plain.start();
    expect(plain.monitorAddress()).toBe(null);
    await plain.stop();
    const monitored = new BrokerServer({ port: 0, monitor: { port: 0 } });
    await monitored.start();
    const { port } = monitored.monitorAddress()!;
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    await monitored.stop();
    await expect(fetch(`http://127.0.0.1:${port}/livez`)).rejects.toThrow();
  });

  it("a monitor port in use fails start() with LISTEN_FAILED and leaves nothing listening", async () => {
    const first = new BrokerServer({ port: 0, monitor: { port: 0 } });
    await first.start();
    const taken = first.monitorAddress()!.port;
    const second = new BrokerServer({ port: 0, monitor: { port: taken } });
    await expect(second.start()).rejects.toMatchObject({ code: "LISTEN_FAILED", message: expect.stringMatching(/cannot listen for monitoring on 127\.0\.0\.1:\d+: EADDRINUSE/) });
    expect(second.state).toBe("new");
    await first.stop();
  });
});
