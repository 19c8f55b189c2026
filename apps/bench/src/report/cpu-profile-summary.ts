import { readFile } from "node:fs/promises";

/** One function's share of a CPU profile. */
export interface ProfileEntry {
  /** "functionName (file:line)" */
  frame: string;
  /** Self time in ms: samples in this function itself, not its callees. */
  selfMs: number;
  /** Share of the busy (non-idle) sampled time, 0..100. */
  percent: number;
}

/** The top of one profile: where the busy time went. */
export interface ProfileSummary {
  /** Sampled time, ms. */
  sampledMs: number;
  /** Sampled time not spent idle (waiting in epoll), ms. */
  busyMs: number;
  top: ProfileEntry[];
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const IDLE = "(idle)";

/**
 * The functions with the most self time in a V8 `.cpuprofile` (as written by `node --cpu-prof`),
 * folded by function and location, as shares of the busy time: "(idle)" is the event loop waiting
 * and says nothing about cost. GC shows up as "(garbage collector)", native code under its own name.
 */
export async function summarizeProfile(file: string, limit = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const frameOf = new Map(profile.nodes.map((node) => [node.id, label(node.callFrame)]));
  const selfUs = new Map<string, number>();
  let sampledUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = frameOf.get(id) ?? "(unknown)";
    selfUs.set(frame, (selfUs.get(frame) ?? 0) + delta);
    sampledUs += delta;
  });
  const busyUs = sampledUs - (selfUs.get(IDLE) ?? 0);
  selfUs.delete(IDLE);
  const top = [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, percent: busyUs > 0 ? (100 * us) / busyUs : 0 }));
  return { sampledMs: sampledUs / 1000, busyMs: busyUs / 1000, top };
}

function label(frame: CpuProfileNode["callFrame"]): string {
  const name = frame.functionName || "(anonymous)";
  if (frame.url === "") return name;
  const file = frame.url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "").replace(/^.*\/packages\//, "packages/");
  return `${name} (${file}:${frame.lineNumber + 1})`;
}
