// The latency table a reviewer reads first: Metric | Baseline | This run | (Service) | Change | Limit | Status.

import type { Comparison, ComparedMetric, ComparisonStatus } from '../verdict/decision.ts';
import { milliseconds, plainPercent, signedPercent } from '../verdict/wording.ts';
import { HOST_SPEED_LIMIT } from '../verdict/host-speed-rule.ts';
import type { GateReport } from './gate-report.ts';
import { inertProse, markdown, table, type Markdown } from './untrusted-text.ts';
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

/** Empty without figures (a run that measured nothing). Every cell is quoted: `comment-from` reads the report from a file. */
export function latencyTable(report: GateReport, columnTitle = 'This run'): Markdown {
  const figures = report.figures;
  if (!figures) return markdown``;
  const byMetric = new Map<ComparedMetric, Comparison>((report.decision?.comparisons ?? []).map((c) => [c.metric, c]));
  const service = serviceColumns(report);
  const hasService = Object.keys(service).length > 0;
  const rows = ROWS.map(({ metric, label, format }) => {
    const comparison = byMetric.get(metric);
    const before = comparison?.baseline;
    const change = comparison?.change;
    const shown = service[metric];
    return [
      label,
      before === undefined ? '—' : shown?.judged ? `${format(before)} service` : format(before),
      format(figures[metric]),
      ...(hasService ? [shown ? format(shown.current) : '—'] : []),
      change === undefined || !Number.isFinite(change) ? '—' : signedPercent(change),
      comparison?.limit || '—',
      STATUS_TEXT[comparison?.status ?? 'info'],
    ];
  });
  const network = report.network;
  if (network && (network.rttMs !== undefined || network.failedProbes > 0)) {
    const failed = network.failedProbes > 0 ? `⚠️ ${network.failedProbes} of ${network.probes} probes failed` : STATUS_TEXT.info;
    const before = network.historyRttMs === undefined ? '—' : milliseconds(network.historyRttMs);
    const current = network.rttMs === undefined ? '—' : milliseconds(network.rttMs);
    rows.push(['network RTT', before, current, ...(hasService ? ['—'] : []), '—', '—', failed]);
  }
  const speed = report.hostSpeed;
  if (speed) {
    const outside = speed.change !== undefined && Math.abs(speed.change) >= HOST_SPEED_LIMIT;
    rows.push([
      'host speed (CPU probe)',
      speed.historyMbps === undefined ? '—' : `${speed.historyMbps} MB/s`,
      `${speed.currentMbps} MB/s`,
      ...(hasService ? ['—'] : []),
      speed.change === undefined ? '—' : signedPercent(speed.change),
      `±${plainPercent(HOST_SPEED_LIMIT)}`,
      outside ? '⚠️ host changed' : STATUS_TEXT.info,
    ]);
  }
  // The service column (latency − network RTT) is there only when the run measured the RTT.
  const memory = memoryTableRows(report, STATUS_TEXT).map((row) => (hasService ? [...row.slice(0, 3), '—', ...row.slice(3)] : row));
  const header = ['Metric', 'Baseline', columnTitle, ...(hasService ? ['Service'] : []), 'Change', 'Limit', 'Status'];
  const cells = [header, ...rows, ...memory].map((row) => row.map((cell) => inertProse(cell)));
  return table(cells, ['l', 'r', 'r', ...(hasService ? (['r'] as const) : []), 'r', 'r', 'l']);
}

/**
 * Service time (latency − network RTT) beside end-to-end latency for p50 and p95; `judged` when the
 * verdict compared service times, so the Baseline and Change columns are service time too.
 */
function serviceColumns(report: GateReport): Partial<Record<ComparedMetric, { current: number; judged: boolean }>> {
  const network = report.network;
  const judged = report.decision?.latencyBasis === 'service-time';
  return {
    ...(network?.serviceMedianMs !== undefined && { p50: { current: network.serviceMedianMs, judged } }),
    ...(network?.serviceP95Ms !== undefined && { p95: { current: network.serviceP95Ms, judged } }),
  };
}
