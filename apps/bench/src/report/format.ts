/** Lays out rows as aligned columns: text columns left, figures right. Row 0 is the header. */
export function columns(rows: string[][], rightAligned: boolean[], indent = "  "): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => [...(row[c] ?? "")].length)));
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, c) => {
            const pad = " ".repeat(widths[c]! - [...cell].length);
            return rightAligned[c] ? pad + cell : cell + pad;
          })
          .join("  ")
          .trimEnd(),
    )
    .join("\n");
}

/** 12345 → "12.3k"; small values keep three significant digits. */
export function compact(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (value >= 100) return Math.round(value).toString();
  return value.toPrecision(3);
}

/** A ratio as "1.52×". */
export function ratio(ours: number | undefined, peer: number | undefined): string {
  if (ours === undefined || peer === undefined || peer === 0) return "–";
  return `${(ours / peer).toFixed(2)}×`;
}
