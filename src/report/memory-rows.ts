// The service's memory where people read the report: rows of the main table, a per-burst table
// in the Host section, and the step outputs. Pure: built from the GateReport alone.

import type { Comparison, ComparisonStatus } from '../verdict/decision.ts';
import { plainPercent, signedPercent } from '../verdict/wording.ts';
import { burstLabel } from '../watch/health.ts';
import { formatMb, SOURCE_WORDS, type ServiceBurstMemory, type ServiceProcessPeak } from '../watch/service-memory.ts';
import type { GateReport } from './gate-report.ts';
import { inertProse, markdown, table, untrusted, type Markdown } from './untrusted-text.ts';

const LABELS = {
  serviceMemory: 'service memory (peak)',
  memoryHeadroom: 'host memory available (min)',
  swapIn: 'swap-in (median)',
} as const;

type MemoryMetric = keyof typeof LABELS;

const isMemoryRow = (row: Comparison): row is Comparison & { metric: MemoryMetric } => row.metric in LABELS;

/** The lowest MemAvailable of this build's bursts and the MemTotal it was a share of, in KiB. */
function lowestAvailable(report: GateReport): { availableKib: number; totalKib: number } | undefined {
  const known = (report.host?.bursts ?? []).filter(
    (burst) => burst.target === 'candidate' && burst.figures.memAvailableMinKib !== null && burst.figures.memTotalKib,
  );
  const lowest = known.sort((a, b) => a.figures.memAvailableMinKib! - b.figures.memAvailableMinKib!)[0];
  return lowest && { availableKib: lowest.figures.memAvailableMinKib!, totalKib: lowest.figures.memTotalKib! };
}

function shown(report: GateReport, row: Comparison & { metric: MemoryMetric }): { baseline: string; current: string } {
  switch (row.metric) {
    case 'serviceMemory':
      return { baseline: row.baseline === undefined ? '—' : formatMb(row.baseline * 1024), current: formatMb(row.current * 1024) };
    case 'memoryHeadroom': {
      const lowest = lowestAvailable(report);
      const of = lowest
        ? `${formatMb(lowest.availableKib)} of ${formatMb(lowest.totalKib)} (${plainPercent(row.current)})`
        : plainPercent(row.current);
      return { baseline: '—', current: of };
    }
    case 'swapIn':
      return { baseline: '—', current: `${row.current.toFixed(2)} MB/s` };
  }
}

/** Rows for the main table (Metric | Baseline | This run | Change | Limit | Status), in the decision's order; its caller quotes them. */
export function memoryTableRows(report: GateReport, statusText: Record<ComparisonStatus, string>): string[][] {
  return (report.decision?.comparisons ?? []).filter(isMemoryRow).map((row) => {
    const { baseline, current } = shown(report, row);
    const change = row.change === undefined || !Number.isFinite(row.change) ? '—' : signedPercent(row.change);
    return [LABELS[row.metric], baseline, current, change, row.limit || '—', statusText[row.status]];
  });
}

/** Names of the memory metrics in the statistics list. */
export const MEMORY_METRIC_NAMES: Record<MemoryMetric, string> = {
  serviceMemory: 'service memory',
  memoryHeadroom: 'host memory available',
  swapIn: 'swap-in',
};

const baselinePeak = (figures: ServiceBurstMemory | null | undefined) => (figures ? formatMb(figures.peakKib) : '–');

function memoryCells(figures: ServiceBurstMemory | null | undefined): string[] {
  if (!figures) return ['not measured', '–', '–'];
  const largest = figures.largestProcessKib === null ? '–' : `${formatMb(figures.largestProcessKib)} (pid ${figures.largestProcessPid})`;
  return [formatMb(figures.peakKib), String(figures.processesAtPeak), largest];
}

/** The Host section's per-burst table of the service's memory; undefined when no service was watched. */
export function serviceMemorySection(report: GateReport): Markdown | undefined {
  const bursts = [...(report.host?.bursts ?? [])].filter((burst) => burst.figures.service !== undefined);
  if (bursts.length === 0) return undefined;
  bursts.sort((a, b) => a.burstIndex - b.burstIndex);
  const live = bursts.some((burst) => burst.figures.baselineService !== undefined);
  const header = [
    'Burst',
    'service peak',
    'processes',
    'largest process',
    ...(live ? ['baseline service peak'] : []),
    'MemAvailable min',
    'swap-in / out pages',
    'major faults',
  ];
  const rows = bursts.map((burst) => [
    burstLabel(burst),
    ...memoryCells(burst.target === 'candidate' ? burst.figures.service : null),
    ...(live ? [baselinePeak(burst.target === 'baseline' ? burst.figures.baselineService : null)] : []),
    burst.figures.memAvailableMinKib === null ? '–' : formatMb(burst.figures.memAvailableMinKib),
    `${burst.figures.swapInPages} / ${burst.figures.swapOutPages}`,
    String(burst.figures.majorFaults),
  ]);
  const measured = bursts.map((burst) => burst.figures.service ?? burst.figures.baselineService).find((figures) => figures);
  const how = measured
    ? markdown`${untrusted(measured.label)}, measured as ${inertProse(SOURCE_WORDS[measured.source])}`
    : markdown`the service`;
  const cells = [header, ...rows].map((row) => row.map((cell) => inertProse(cell)));
  return markdown`**Service memory** (${how}), per burst:\n\n${table(
    cells,
    header.map((_, i) => (i === 0 ? 'l' : 'r')),
  )}`;
}

/**
 * The processes `service-match` / `service-unit` counted, for the details: each pid's peak over
 * this build's bursts, largest first; undefined when the sampler sent no command lines.
 */
export function serviceProcessList(report: GateReport): Markdown | undefined {
  const figures = (report.host?.bursts ?? []).flatMap((burst) =>
    burst.target === 'candidate' && burst.figures.service?.processPeaks ? [burst.figures.service] : [],
  );
  if (figures.length === 0) return undefined;
  const byPid = new Map<number, ServiceProcessPeak>();
  for (const process of figures.flatMap((service) => service.processPeaks!.processes)) {
    if ((byPid.get(process.pid)?.peakKib ?? -1) < process.peakKib) byPid.set(process.pid, process);
  }
  const measure = figures.every((service) => service.processPeaks!.measure === 'pss') ? 'PSS' : 'RSS';
  const rows = [...byPid.values()]
    .sort((a, b) => b.peakKib - a.peakKib)
    .map((process) => [
      inertProse(String(process.pid)),
      markdown`${untrusted(process.command)}${process.worker ? markdown` worker` : markdown``}`,
      inertProse(formatMb(process.peakKib)),
    ]);
  const header = [markdown`pid`, markdown`command (shortened)`, inertProse(`peak ${measure}`)];
  const most = Math.max(...figures.map((service) => service.processesMax));
  const listed =
    most > rows.length ? markdown` (the largest ${inertProse(String(rows.length))} of ${inertProse(String(most))})` : markdown``;
  return markdown`Processes counted as ${untrusted(figures[0]!.label)}${listed}; a worker's parent is counted too:\n\n${table(
    [header, ...rows],
    ['r', 'l', 'r'],
  )}`;
}

/** Step outputs: `service-memory-mb` (the run's peak), `memory-change` (signed percent), `memory-headroom` (percent of MemTotal). */
export function memoryOutputs(report: GateReport): Record<'service-memory-mb' | 'memory-change' | 'memory-headroom', string> {
  const rows = report.decision?.comparisons ?? [];
  const service = rows.find((row) => row.metric === 'serviceMemory');
  const headroom = rows.find((row) => row.metric === 'memoryHeadroom');
  const change = service?.change;
  return {
    'service-memory-mb': service ? service.current.toFixed(1) : '',
    'memory-change': change === undefined || !Number.isFinite(change) ? '' : signedPercent(change).replace('%', ''),
    'memory-headroom': headroom ? (headroom.current * 100).toFixed(1) : '',
  };
}
