import { readFile } from "node:fs/promises";

/** One function's share of a CPU profile. */
export interface ProfileEntry {
  /** "functionName (file:line)" */
  frame: string;
  /** Self time in ms: samples in this function itself, not its callees. */
  selfMs: number;
  /** Share of all sampled time, 0..100. */
  percent: number;
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

/**
 * The functions with the most self time in a V8 `.cpuprofile` (as written by `node --cpu-prof`),
 * folded by function and location. Idle and GC show up as "(idle)" and "(garbage collector)".
 */
export async function topSelfTime(file: string, limit = 15): Promise<ProfileEntry[]> {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const frameOf = new Map(profile.nodes.map((node) => [node.id, label(node.callFrame)]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = frameOf.get(id) ?? "(unknown)";
    selfUs.set(frame, (selfUs.get(frame) ?? 0) + delta);
    totalUs += delta;
  });
  return [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, percent: totalUs > 0 ? (100 * us) / totalUs : 0 }));
}

function label(frame: CpuProfileNode["callFrame"]): string {
  const name = frame.functionName || "(anonymous)";
  if (frame.url === "") return name;
  const file = frame.url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "").replace(/^.*\/packages\//, "packages/");
  return `${name} (${file}:${frame.lineNumber + 1})`;
}
