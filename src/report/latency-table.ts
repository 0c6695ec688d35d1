// The latency table a reviewer reads first: Metric | Baseline | This run | Change | Limit | Status.

import { markdownTable } from 'markdown-table';
import type { Comparison, ComparedMetric, ComparisonStatus } from '../verdict/decision.ts';
import { milliseconds, signedPercent } from '../verdict/wording.ts';
import type { GateReport } from './gate-report.ts';
import { inertProse } from './untrusted-text.ts';
import type { RunFigures } from '../verdict/run-figures.ts';
import { memoryTableRows } from './memory-rows.ts';

const ROWS: { metric: Extract<ComparedMetric, keyof RunFigures>; label: string; format: (value: number) => string }[] = [
  { metric: 'p50', label: 'p50 (median)', format: milliseconds },
  { metric: 'p95', label: 'p95', format: milliseconds },
  { metric: 'p99', label: 'p99', format: milliseconds },
  { metric: 'requestsPerSec', label: 'requests/s', format: (v) => v.toFixed(v >= 100 ? 0 : 1) },
  { metric: 'errorRate', label: 'error rate', format: (v) => `${(v * 100).toFixed(2)}%` },
];

const STATUS_TEXT: Record<ComparisonStatus, string> = {
  ok: '✅ ok',
  regression: '❌ regression',
  improved: '🚀 improved',
  inconclusive: '⚠️ inconclusive',
  info: 'info',
};

export function latencyTable(report: GateReport, columnTitle = 'This run'): string {
  const figures = report.figures;
  if (!figures) return '';
  const byMetric = new Map<ComparedMetric, Comparison>((report.decision?.comparisons ?? []).map((c) => [c.metric, c]));
  const rows = ROWS.map(({ metric, label, format }) => {
    const comparison = byMetric.get(metric);
    const before = comparison?.baseline;
    const change = comparison?.change;
    return [
      label,
      before === undefined ? '—' : format(before),
      format(figures[metric]),
      change === undefined || !Number.isFinite(change) ? '—' : signedPercent(change),
      // A report read back by `comment-from` was written by the measuring workflow: its text is quoted.
      comparison?.limit ? inertProse(comparison.limit) : '—',
      STATUS_TEXT[comparison?.status ?? 'info'],
    ];
  });
  const header = ['Metric', 'Baseline', columnTitle, 'Change', 'Limit', 'Status'];
  return markdownTable([header, ...rows, ...memoryTableRows(report, STATUS_TEXT)], {
    align: ['l', 'r', 'r', 'r', 'r', 'l'],
  });
}
