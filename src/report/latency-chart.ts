// The latency percentile curve as a mermaid `xychart-beta` block, which GitHub draws inside a
// ```mermaid fence. Pure.

import type { Verdict } from '../verdict/decision.ts';
import { milliseconds } from '../verdict/wording.ts';
import type { LatencyCurve } from './gate-report.ts';
import { fenced, inertProse, markdown, type Markdown } from './untrusted-text.ts';

export const BASELINE_SERIES = 'baseline';
export const CANDIDATE_SERIES = 'this PR';

const BASELINE_COLOUR = '#8c959f';
const CANDIDATE_COLOUR = '#0969da';
const REGRESSION_COLOUR = '#cf222e';

/** "p99.9" for 99.9; quoted, since mermaid reads unquoted dots as something else. */
function percentileLabel(percentile: number): string {
  // Number(): a report read back by `comment-from` may hold text here, and text could end the fence.
  return `"p${Number(percentile)}"`;
}

/** Four significant digits: enough to read, short enough to keep the block small. */
function chartValue(ms: number): string {
  return String(Number.isFinite(ms) ? Number(ms.toPrecision(4)) : 0);
}

/** A round axis top a little above the highest point, so the top line does not touch the frame. */
function axisTop(highest: number): number {
  if (!(highest > 0)) return 1;
  const padded = highest * 1.1;
  const step = 10 ** Math.floor(Math.log10(padded));
  for (const multiple of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (multiple * step >= padded) return Number((multiple * step).toPrecision(3));
  }
  return padded;
}

/**
 * The chart block, baseline first so its line is drawn under this PR's; only this PR's line when
 * there is no baseline curve. Titled `line` series get a legend from mermaid 11 on; the caption
 * under the block says the same for renderers without one.
 */
export function latencyChart(curve: LatencyCurve, verdict: Verdict): Markdown {
  const baseline = curve.baseline?.length === curve.candidate.length ? curve.baseline : undefined;
  const candidateColour = verdict === 'regression' ? REGRESSION_COLOUR : CANDIDATE_COLOUR;
  const palette = baseline ? [BASELINE_COLOUR, candidateColour] : [candidateColour];
  const highest = Math.max(0, ...curve.candidate, ...(baseline ?? []));
  const init = { theme: 'base', themeVariables: { xyChart: { plotColorPalette: palette.join(', ') } } };
  const lines = [
    `%%{init: ${JSON.stringify(init)}}%%`,
    'xychart-beta',
    '  title "Latency by percentile"',
    `  x-axis "percentile" [${curve.percentiles.map(percentileLabel).join(', ')}]`,
    `  y-axis "latency (ms)" 0 --> ${axisTop(highest)}`,
    ...(baseline ? [`  line "${BASELINE_SERIES}" [${baseline.map(chartValue).join(', ')}]`] : []),
    `  line "${CANDIDATE_SERIES}" [${curve.candidate.map(chartValue).join(', ')}]`,
  ];
  const caption = baseline
    ? `Lines: ${BASELINE_SERIES} (grey) and ${CANDIDATE_SERIES} (${verdict === 'regression' ? 'red' : 'blue'}); p${Number(curve.percentiles.at(-1))} ${milliseconds(baseline.at(-1) ?? 0)} → ${milliseconds(curve.candidate.at(-1) ?? 0)}.`
    : `Line: ${CANDIDATE_SERIES}; no baseline curve to compare with.`;
  return markdown`${fenced(lines, 'mermaid')}\n\n<sub>${inertProse(caption)}</sub>`;
}
