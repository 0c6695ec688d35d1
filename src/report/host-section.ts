// The "Host under load" section: the host model (watch/host-summary.ts) as markdown. Pure.

import { markdownTable } from 'markdown-table';
import { formatMib } from '../units.ts';
import type { HostUnderLoad } from '../watch/host-summary.ts';
import { capitalize, fenced } from './markdown.ts';

const COLUMNS = [
  '',
  'MemAvailable before',
  'min',
  'after',
  'Swap used peak',
  'Swap-in pages',
  'PSI some peak',
  'Steal',
  'OOM kills',
  'Crash lines',
];

export function renderHostUnderLoad(model: HostUnderLoad): string {
  if (!model.observed) return `### Host under load\n\n${model.note}\n`;
  const rows = model.runs.map((run) => [
    run.label,
    formatMib(run.memAvailableBeforeKib) ?? '–',
    formatMib(run.memAvailableMinKib) ?? '–',
    formatMib(run.memAvailableAfterKib) ?? '–',
    run.swapTotalKib === 0 ? 'no swap' : (formatMib(run.swapUsedPeakKib) ?? '–'),
    String(run.swapInPages),
    run.psiSomePeak === null ? 'unknown' : `${run.psiSomePeak.toFixed(1)} %`,
    run.stealPercentPeak === null ? '–' : `${run.stealPercentPeak.toFixed(1)} %`,
    String(run.oomKills),
    String(run.crashLines),
  ]);
  const parts = [
    '### Host under load',
    `**Diagnosis:** ${capitalize(model.diagnosis)}.`,
    markdownTable([COLUMNS, ...rows], { align: ['l', ...COLUMNS.slice(1).map(() => 'r')] }),
  ];
  if (model.crashLines.length > 0) {
    parts.push(`Crash lines from \`logs-command\`:\n\n${fenced(model.crashLines.map((crash) => crash.line))}`);
  }
  parts.push(`Host: ${model.machine}.`);
  if (model.baselineMachineDifferences.length > 0) {
    parts.push(`> [!WARNING]\n> The baseline was measured on a different machine (${model.baselineMachineDifferences.join('; ')}): latencies may not be comparable.`);
  }
  if (model.gaps.length > 0) parts.push(`Not observed: ${model.gaps.join('; ')}.`);
  return `${parts.join('\n\n')}\n`;
}
