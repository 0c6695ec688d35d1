// The one line that says what happened, with an icon: the comment's first line, the annotation,
// the CLI's last line.

import type { GateReport } from './gate-report.ts';

const ICONS = { pass: '✅', regression: '❌', inconclusive: '⚠️', error: '💥' } as const;

export function headlineOf(report: Pick<GateReport, 'verdict' | 'headline' | 'name'>): string {
  return `${ICONS[report.verdict]} ${report.name}: ${report.headline}`;
}
