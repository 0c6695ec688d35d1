// BENCHMARKS.md from one bench run: the machine, the versions, each figure's goal, outcome and table.

import type { Figure } from './figure.ts';

export interface Machine {
  cores: number;
  cpuModel: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  versions: Record<string, string>;
}

const ICON = { met: '✅', missed: '⚠️', 'missed widely': '❌', missing: '⏳' } as const;

function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const [head, ...body] = rows;
  return [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...body.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

/** Figure 5 (power of the verdict) is written by bench/power*.ts: its section is kept as it is. */
export function powerSection(existing: string): string | undefined {
  const start = existing.search(/^## 5\./m);
  if (start < 0) return undefined;
  const rest = existing.slice(start);
  const end = rest.slice(1).search(/^## (?!5\.)/m);
  return (end < 0 ? rest : rest.slice(0, end + 1)).trimEnd();
}

export function renderBenchmarks(figures: readonly Figure[], machine: Machine, command: string, date: string, power?: string): string {
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(', ');
  return [
    '# loadgate benchmarks',
    '',
    `Measured ${date} with \`${command}\` (raw results: [bench/results/latest.json](bench/results/latest.json)).`,
    'Every tool runs in every round, in rotated order; figures are min / **median** / max over the rounds,',
    'and the goals are judged on medians of per-round ratios, since the machine is shared and noisy.',
    'CI runs the short version, `npm run bench -- --quick` (about 2 minutes, writes nothing), which exits 1 when a goal is missed widely.',
    '',
    `Machine: ${machine.cores} cores, ${machine.cpuModel}; load average (1, 5, 15 min) ${load(machine.loadAverageBefore)} before, ${load(machine.loadAverageAfter)} after.`,
    `Versions: ${Object.entries(machine.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}.`,
    '',
    '| figure | goal | result | |',
    '| --- | --- | --- | --- |',
    ...figures.map((f) => `| ${f.id}. ${f.title} | ${f.goal} | ${f.verdict} | ${ICON[f.status]} ${f.status} |`),
    '',
    ...figures.flatMap((f) => [
      `## ${f.id}. ${f.title}`,
      '',
      `Goal: ${f.goal}. **${ICON[f.status]} ${f.status}**: ${f.verdict}.`,
      '',
      table(f.table),
      '',
      ...f.notes.map((note) => `- ${note}`),
      '',
    ]),
    power ?? '## 5. Power of the verdict\n\nMeasured separately by `bench/power.ts` (`npx tsx bench/power.ts`).',
    '',
  ].join('\n');
}
