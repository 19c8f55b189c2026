import { writeFile } from "node:fs/promises";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { RunResult } from "../run-result.js";
import { SYSTEM_NAMES, SYSTEMS } from "../systems/registry.js";

interface ChartRow {
  scenario: string;
  system: string;
  value: number;
}

/**
 * Renders requests/s and p99 latency per scenario and system as one SVG (Vega-Lite, rendered
 * headlessly by Vega: no browser, no canvas). Each scenario gets its own y scale, since 1 MiB
 * bodies and 64-byte pipelining differ by orders of magnitude.
 */
export async function writeChart(file: string, results: RunResult[], title: string): Promise<void> {
  const measured = results.filter((r) => r.status === "ok" && r.latency !== undefined);
  const scenarios = [...new Set(measured.map((r) => r.scenario))];
  // Ours first, then the peers, in the registry's order, whatever order the runs came in.
  const systems = SYSTEM_NAMES.map((name) => SYSTEMS[name].label).filter((label) => measured.some((r) => r.label === label));
  const panel = (metric: string, rows: ChartRow[]) => ({
    data: { values: rows },
    facet: { column: { field: "scenario", type: "nominal", sort: scenarios, title: null, header: { labelFontSize: 11 } } },
    spec: {
      width: 84,
      height: 170,
      layer: [
        { mark: "bar" },
        { mark: { type: "text", dy: -5, fontSize: 8 }, encoding: { text: { field: "value", type: "quantitative", format: ".3~s" } } },
      ],
      encoding: {
        x: { field: "system", type: "nominal", sort: systems, axis: null },
        y: { field: "value", type: "quantitative", title: metric },
        color: { field: "system", type: "nominal", sort: systems, title: "system" },
      },
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  });
  const rows = (pick: (r: RunResult) => number) => measured.map((r) => ({ scenario: r.scenario, system: r.label, value: pick(r) }));
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, fontSize: 14 },
    vconcat: [panel("requests/s (higher is better)", rows((r) => r.requestsPerSecond)), panel("p99 latency, µs (lower is better)", rows((r) => r.latency!.p99Us))],
    config: { background: "white" },
  } as unknown as vegaLite.TopLevelSpec;
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  try {
    await writeFile(file, await view.toSVG());
  } finally {
    view.finalize();
  }
}
