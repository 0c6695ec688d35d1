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

/**
 * Empty without figures (a run that measured nothing). Every cell is quoted: `comment-from` reads the
 * report from a file. Baseline and this run are always on one basis: p50 and p95 on the one the
 * verdict judged (service time or end to end), named in the Metric cell, the other beside them.
 */
export function latencyTable(report: GateReport, columnTitle = 'This run'): Markdown {
  const figures = report.figures;
  if (!figures) return markdown``;
  const byMetric = new Map<ComparedMetric, Comparison>((report.decision?.comparisons ?? []).map((c) => [c.metric, c]));
  const service = serviceColumns(report);
  const hasService = Object.keys(service).length > 0;
  // Percentiles of bursts without one 2xx response read 0 from the empty histogram: not a latency.
  const latencyMeasured = measuredLatency(report);
  const rows = ROWS.map(({ metric, label, format }) => {
    const comparison = byMetric.get(metric);
    const before = comparison?.baseline;
    const shown = service[metric];
    const latency = LATENCY_METRICS.has(metric);
    const unmeasured = latency && !latencyMeasured;
    const change = unmeasured ? undefined : comparison?.change;
    const endToEnd = unmeasured ? '—' : format(figures[metric]);
    const serviceTime = unmeasured || !shown ? '—' : format(shown.current);
    const basis = !hasService || !latency ? '' : shown?.judged ? ', service time' : ', end to end';
    return [
      `${label}${basis}`,
      before === undefined ? '—' : format(before),
      shown?.judged ? serviceTime : endToEnd,
      ...(hasService ? [shown ? (shown.judged ? `${endToEnd} end to end` : `${serviceTime} service`) : '—'] : []),
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
  // The other measure (service time = latency − network RTT) is there only when the run measured the RTT.
  const memory = memoryTableRows(report, STATUS_TEXT).map((row) => (hasService ? [...row.slice(0, 3), '—', ...row.slice(3)] : row));
  const header = ['Metric', 'Baseline', columnTitle, ...(hasService ? ['Other measure'] : []), 'Change', 'Limit', 'Status'];
  const cells = [header, ...rows, ...memory].map((row) => row.map((cell) => inertProse(cell)));
  return table(cells, ['l', 'r', 'r', ...(hasService ? (['r'] as const) : []), 'r', 'r', 'l']);
}

const LATENCY_METRICS = new Set<ComparedMetric>(['p50', 'p95', 'p99']);

/** Whether any of this run's bursts had a 2xx response, so its percentiles are latencies. */
export function measuredLatency(report: GateReport): boolean {
  const bursts = report.bursts.filter((burst) => burst.target === 'candidate');
  return bursts.length === 0 || bursts.some((burst) => burst.ok > 0);
}

/**
 * Service time (latency − network RTT) for p50 and p95; `judged` when the verdict compared service
 * times, so the row's Baseline, this run and Change are service time and end to end is beside them.
 */
function serviceColumns(report: GateReport): Partial<Record<ComparedMetric, { current: number; judged: boolean }>> {
  const network = report.network;
  const judged = report.decision?.latencyBasis === 'service-time';
  return {
    ...(network?.serviceMedianMs !== undefined && { p50: { current: network.serviceMedianMs, judged } }),
    ...(network?.serviceP95Ms !== undefined && { p95: { current: network.serviceP95Ms, judged } }),
  };
}
