// The "Host under load" section: the host model (watch/host-summary.ts) as markdown. Pure.

import { markdownTable } from 'markdown-table';
import { formatMib } from '../units.ts';
import type { HostUnderLoad } from '../watch/host-summary.ts';
import { capitalize, fenced } from './markdown.ts';
import { inertProse } from './untrusted-text.ts';

/** The diagnosis names a killed process and the swap state; gaps list every unobserved source. */
const DIAGNOSIS_CHARS = 1_000;

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
  const rows = model.runs.map((run) =>
    [
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
    ].map((value) => inertProse(value)),
  );
  const parts = [
    '### Host under load',
    `**Diagnosis:** ${inertProse(capitalize(model.diagnosis), { maxChars: DIAGNOSIS_CHARS })}.`,
    markdownTable([COLUMNS, ...rows], { align: ['l', ...COLUMNS.slice(1).map(() => 'r')] }),
  ];
  if (model.crashLines.length > 0) {
    parts.push(`Crash lines from \`logs-command\`:\n\n${fenced(model.crashLines.map((crash) => crash.line))}`);
  }
  // The machine, its differences and the gaps quote the host (kernel, CPU model, command errors).
  parts.push(`Host: ${inertProse(model.machine, { maxChars: DIAGNOSIS_CHARS })}.`);
  if (model.baselineMachineDifferences.length > 0) {
    const differences = inertProse(model.baselineMachineDifferences.join('; '), { maxChars: DIAGNOSIS_CHARS });
    parts.push(`> [!WARNING]\n> The baseline was measured on a different machine (${differences}): latencies may not be comparable.`);
  }
  if (model.gaps.length > 0) parts.push(`Not observed: ${inertProse(model.gaps.join('; '), { maxChars: DIAGNOSIS_CHARS })}.`);
  return `${parts.join('\n\n')}\n`;
}
