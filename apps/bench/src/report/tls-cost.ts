import type { RunResult } from "../run-result.js";
import type { SystemName } from "../systems/system.js";

/** Each TLS system and the plaintext run it is measured against. */
const PAIRS: ReadonlyArray<{ secure: SystemName; plain: SystemName; label: string }> = [
  { secure: "switchyard-tls", plain: "switchyard", label: "Switchyard" },
  { secure: "nats-tls", plain: "nats", label: "NATS" },
];

/**
 * What TLS cost each system in one scenario of a `--tls` run, from the same run's plaintext figures:
 * `  TLS cost, Switchyard: 41 000 → 35 000 req/s (85% of plaintext), p50 230 → 260 µs`.
 */
export function tlsCostLines(results: RunResult[]): string[] {
  const ok = (system: SystemName) => results.find((r) => r.system === system && r.status === "ok");
  return PAIRS.flatMap(({ secure, plain, label }) => {
    const tls = ok(secure);
    const clear = ok(plain);
    if (tls === undefined || clear === undefined || clear.requestsPerSecond === 0) return [];
    const share = Math.round((100 * tls.requestsPerSecond) / clear.requestsPerSecond);
    const rate = (r: RunResult) => Math.round(r.requestsPerSecond).toLocaleString("en-US");
    const p50 = tls.latency && clear.latency ? `, p50 ${Math.round(clear.latency.p50Us)} → ${Math.round(tls.latency.p50Us)} µs` : "";
    return [`  TLS cost, ${label}: ${rate(clear)} → ${rate(tls)} req/s (${share}% of plaintext)${p50}`];
  });
}
