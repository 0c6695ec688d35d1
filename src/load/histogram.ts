// Latency histograms in microseconds (autocannon's own counts whole milliseconds, rounded down,
// which turns a 0.5 ms service into p50 = 0). Encoded histograms are what bursts, processes and
// stored runs exchange, so that merging them is exact rather than an average of percentiles.

import * as hdr from 'hdr-histogram-js';

export type LatencyHistogram = hdr.Histogram;

/** 60 s in µs: longer than any request timeout we accept, so no latency is clipped. */
const HIGHEST_TRACKABLE_US = 60_000_000;

export function createLatencyHistogram(): LatencyHistogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

/** One histogram holding every recorded value of the given encoded histograms. */
export function mergeHistograms(encoded: readonly string[]): LatencyHistogram {
  const merged = createLatencyHistogram();
  for (const text of encoded) {
    const part = decodeHistogram(text);
    merged.add(part);
    part.destroy();
  }
  return merged;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  count: number;
}

/** Percentiles in milliseconds; all zero for an empty histogram (never NaN). */
export function summarizeLatency(histogram: LatencyHistogram): LatencySummary {
  const count = histogram.totalCount;
  const ms = (us: number) => (count === 0 || !Number.isFinite(us) ? 0 : us / 1000);
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
    count,
  };
}

/** The latency curve the report charts: percentile → milliseconds. */
export const CURVE_PERCENTILES = [50, 75, 90, 95, 99, 99.9] as const;

export function latencyCurve(histogram: LatencyHistogram): number[] {
  return CURVE_PERCENTILES.map((p) => (histogram.totalCount === 0 ? 0 : histogram.getValueAtPercentile(p) / 1000));
}

/** The latency curve of several encoded histograms together. */
export function mergedCurve(encoded: readonly string[]): number[] {
  const merged = mergeHistograms(encoded);
  const curve = latencyCurve(merged);
  merged.destroy();
  return curve;
}
