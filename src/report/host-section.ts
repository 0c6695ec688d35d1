// The "Host under load" section: the host model (watch/host-summary.ts) as markdown. Pure.

import { formatMib } from '../units.ts';
import type { HostUnderLoad } from '../watch/host-summary.ts';
import { capitalize } from './markdown.ts';
import { fenced, inertProse, joinMarkdown, markdown, table, type Markdown } from './untrusted-text.ts';

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

export function renderHostUnderLoad(model: HostUnderLoad): Markdown {
  if (!model.observed) return markdown`### Host under load\n\n${inertProse(model.note, { maxChars: DIAGNOSIS_CHARS })}`;
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
  const cells = [COLUMNS, ...rows].map((row) => row.map((cell) => inertProse(cell)));
  const parts = [
    markdown`### Host under load`,
    markdown`**Diagnosis:** ${inertProse(capitalize(model.diagnosis), { maxChars: DIAGNOSIS_CHARS })}.`,
    table(cells, ['l', ...COLUMNS.slice(1).map(() => 'r' as const)]),
  ];
  if (model.crashLines.length > 0) {
    parts.push(markdown`Crash lines from \`logs-command\`:\n\n${fenced(model.crashLines.map((crash) => crash.line))}`);
  }
  // The machine, its differences and the gaps quote the host (kernel, CPU model, command errors).
  parts.push(markdown`Host: ${inertProse(model.machine, { maxChars: DIAGNOSIS_CHARS })}.`);
  if (model.baselineMachineDifferences.length > 0) {
    const differences = inertProse(model.baselineMachineDifferences.join('; '), { maxChars: DIAGNOSIS_CHARS });
    parts.push(
      markdown`> [!WARNING]\n> The baseline was measured on a different machine (${differences}): latencies may not be comparable.`,
    );
  }
  if (model.gaps.length > 0) parts.push(markdown`Not observed: ${inertProse(model.gaps.join('; '), { maxChars: DIAGNOSIS_CHARS })}.`);
  return joinMarkdown(parts, markdown`\n\n`);
}
