/**
 * The usage chart's numbers: an instance's ledger windows summed per hour or per UTC day into pushed (ACCEPTED),
 * pending (OPEN, PUSHING) and refused (REJECTED) quantities, and the bars' geometry in the SVG's own units. The
 * quantities the page prints stay the API's decimal strings; only bar heights use numbers. (Pure, unit-tested.)
 */

export type Per = 'hour' | 'day';

export interface ChartWindow {
  beginTime: string;
  state: 'OPEN' | 'PUSHING' | 'ACCEPTED' | 'REJECTED';
  value: string;
}

export interface Bucket {
  /** The hour (`YYYY-MM-DDTHH`) or UTC day (`YYYY-MM-DD`). */
  label: string;
  pushed: number;
  pending: number;
  refused: number;
}

const KIND_OF = { ACCEPTED: 'pushed', OPEN: 'pending', PUSHING: 'pending', REJECTED: 'refused' } as const;

/** The windows summed per hour or day, oldest first. */
export function usageBuckets(windows: readonly ChartWindow[], per: Per): Bucket[] {
  const byLabel = new Map<string, Bucket>();
  for (const w of windows) {
    const label = w.beginTime.slice(0, per === 'hour' ? 13 : 10);
    const bucket = byLabel.get(label) ?? { label, pushed: 0, pending: 0, refused: 0 };
    const quantity = Number(w.value);
    bucket[KIND_OF[w.state]] += Number.isFinite(quantity) ? quantity : 0;
    byLabel.set(label, bucket);
  }
  return [...byLabel.values()].sort((a, b) => a.label.localeCompare(b.label));
}

export interface Bar {
  kind: 'pushed' | 'pending' | 'refused';
  x: number;
  y: number;
  width: number;
  height: number;
}

export const CHART = { width: 640, height: 200, gap: 2 } as const;

/** Stacked bars (pushed at the bottom, then pending, then refused) scaled so the tallest bucket fills the chart. */
export function chartBars(buckets: readonly Bucket[]): { bars: Bar[]; max: number } {
  const max = Math.max(0, ...buckets.map((b) => b.pushed + b.pending + b.refused));
  if (buckets.length === 0 || max === 0) return { bars: [], max };
  const slot = CHART.width / buckets.length;
  const width = Math.max(1, slot - CHART.gap);
  const bars: Bar[] = [];
  buckets.forEach((bucket, index) => {
    let top = CHART.height;
    for (const kind of ['pushed', 'pending', 'refused'] as const) {
      if (bucket[kind] <= 0) continue;
      const height = (bucket[kind] / max) * CHART.height;
      top -= height;
      bars.push({ kind, x: round(index * slot), y: round(top), width: round(width), height: round(height) });
    }
  });
  return { bars, max };
}

const round = (n: number) => Math.round(n * 100) / 100;
