import type { RunResult } from "../run-result.js";
import type { SystemName } from "../systems/system.js";

/** A system with a feature on, and the same system without it, run in the same scenario. */
export interface CostPair {
  with: SystemName;
  without: SystemName;
  label: string;
}

/** --tls: each TLS system and the plaintext run it is measured against. */
export const TLS_PAIRS: readonly CostPair[] = [
  { with: "switchyard-tls", without: "switchyard", label: "Switchyard" },
  { with: "nats-tls", without: "nats", label: "NATS" },
];

/** --monitor: the broker with its monitoring listener on (and scraped) against the same broker without. */
export const MONITOR_PAIRS: readonly CostPair[] = [{ with: "switchyard-monitored", without: "switchyard", label: "Switchyard" }];

/**
 * What a feature cost each system in one scenario, from the same run's figures without it:
 * `  TLS cost, Switchyard: 41 000 → 35 000 req/s (85%), p50 230 → 260 µs, broker CPU 24 → 29 µs/req`.
 */
export function costLines(feature: string, pairs: readonly CostPair[], results: RunResult[]): string[] {
  const ok = (system: SystemName) => results.find((r) => r.system === system && r.status === "ok");
  return pairs.flatMap((pair) => {
    const on = ok(pair.with);
    const off = ok(pair.without);
    if (on === undefined || off === undefined || off.requestsPerSecond === 0) return [];
    const share = Math.round((100 * on.requestsPerSecond) / off.requestsPerSecond);
    const rate = (r: RunResult) => Math.round(r.requestsPerSecond).toLocaleString("en-US");
    const p50 = on.latency && off.latency ? `, p50 ${Math.round(off.latency.p50Us)} → ${Math.round(on.latency.p50Us)} µs` : "";
    const cpu = (r: RunResult) => r.server?.cpuUsPerRequest;
    const offCpu = cpu(off);
    const onCpu = cpu(on);
    const serverCpu = offCpu !== undefined && onCpu !== undefined ? `, ${off.server!.role} CPU ${Math.round(offCpu)} → ${Math.round(onCpu)} µs/req` : "";
    return [`  ${feature} cost, ${pair.label}: ${rate(off)} → ${rate(on)} req/s (${share}%)${p50}${serverCpu}`];
  });
}
