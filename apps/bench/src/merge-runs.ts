import type { FleetBrokerReport, ProcessReport, RunResult } from "./run-result.js";

/**
 * One system's result over the two setups of an interleaved run: counts and times summed,
 * per-request figures recomputed over both, memory at the end and the peak of either. Latencies
 * are `second`'s: both setups record into one histogram (runInterleaved). A failure of either is
 * the result. The processes differ between the setups; a broker is matched by its place in the
 * fleet, and its address is both addresses when they differ.
 */
export function mergeRuns(first: RunResult, second: RunResult): RunResult {
  if (first.status !== "ok") return first;
  if (second.status !== "ok") return second;
  const requests = first.requests + second.requests;
  const elapsedMs = first.elapsedMs + second.elapsedMs;
  const requestsPerSecond = elapsedMs > 0 ? requests / (elapsedMs / 1000) : 0;
  const merged = (a: ProcessReport | undefined, b: ProcessReport | undefined) => (a === undefined || b === undefined ? undefined : mergeProcess(a, first.requests, b, second.requests));
  return {
    ...second,
    requests,
    errors: first.errors + second.errors,
    firstError: first.firstError ?? second.firstError,
    elapsedMs,
    windows: (first.windows ?? 0) + (second.windows ?? 0),
    requestsPerSecond,
    megabytesPerSecond: (requestsPerSecond * first.shape.payloadBytes) / 1e6,
    server: merged(first.server, second.server),
    fleetBrokers: first.fleetBrokers === undefined || second.fleetBrokers === undefined ? undefined : first.fleetBrokers.map((a, i) => mergeBroker(a, second.fleetBrokers![i])).filter((b) => b !== undefined),
    others: first.others.flatMap((a, i) => merged(a, second.others[i]) ?? []),
    bench: merged(first.bench, second.bench),
    profiles: { ...first.profiles, ...second.profiles },
  };
}

function mergeBroker(a: FleetBrokerReport, b: FleetBrokerReport | undefined): FleetBrokerReport | undefined {
  if (b === undefined) return undefined;
  return { ...mergeProcess(a, a.requests, b, b.requests), address: a.address === b.address ? a.address : `${a.address}, then ${b.address}`, requests: a.requests + b.requests };
}

/** A process's report over `na` requests of one setup and `nb` of the other. */
function mergeProcess(a: ProcessReport, na: number, b: ProcessReport, nb: number): ProcessReport {
  const requests = na + nb;
  const cpuMs = a.cpuMs + b.cpuMs;
  const perRequest = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || requests === 0 ? undefined : (x * na + y * nb) / requests);
  return {
    role: a.role,
    pid: b.pid,
    cpuMs,
    cpuUsPerRequest: requests > 0 ? (cpuMs * 1000) / requests : undefined,
    rssMB: b.rssMB,
    peakRssMB: Math.max(a.peakRssMB, b.peakRssMB),
    sleepsPerRequest: perRequest(a.sleepsPerRequest, b.sleepsPerRequest),
    syscallsPerRequest: perRequest(a.syscallsPerRequest, b.syscallsPerRequest),
  };
}
