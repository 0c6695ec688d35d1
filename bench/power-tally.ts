// Counting the power benchmark's runs: per case the verdicts with their counts, the goals of
// issue 5 judged on those counts, and the markdown table. Pure.

import type { LoadSettings } from '../src/config/settings.ts';
import type { Verdict } from '../src/verdict/decision.ts';
import { median } from '../src/verdict/statistics.ts';
import { slowdownLabel, type Case, type Mode, type SlowdownKind } from './power-cases.ts';

export interface RunRecord {
  profile: string;
  mode: Mode;
  kind: SlowdownKind;
  size: number;
  lane: number;
  drift: number;
  verdict: Verdict;
  /** The run measured K more bursts because its first verdict was regression or inconclusive. */
  confirmed: boolean;
  /** The decision's p50 / p95 change: against the history's centre, or A/B ratio of medians − 1. */
  p50Change?: number;
  p95Change?: number;
  seconds: number;
  error?: string;
}

export interface CaseTally {
  profile: string;
  mode: Mode;
  kind: SlowdownKind;
  size: number;
  label: string;
  wanted: number;
  runs: number;
  regression: number;
  inconclusive: number;
  pass: number;
  error: number;
  confirmed: number;
  medianP50Change?: number;
  medianP95Change?: number;
  medianSeconds?: number;
}

export interface GoalResult {
  goal: string;
  profile: string;
  met: boolean;
  detection: string;
  falseAlarms: string;
  note: string;
}

const sameCase = (record: RunRecord, c: Case) =>
  record.profile === c.profile.name && record.kind === c.slowdown.kind && record.size === c.slowdown.size;

function medianOf(values: (number | undefined)[]): number | undefined {
  const present = values.filter((value): value is number => value !== undefined && Number.isFinite(value));
  return present.length ? median(present) : undefined;
}

export function tally(cases: Case[], records: RunRecord[]): CaseTally[] {
  return cases.map((c) => {
    const mine = records.filter((record) => sameCase(record, c));
    const count = (verdict: Verdict) => mine.filter((record) => record.verdict === verdict).length;
    return {
      profile: c.profile.name,
      mode: c.profile.mode,
      kind: c.slowdown.kind,
      size: c.slowdown.size,
      label: slowdownLabel(c.slowdown),
      wanted: c.runs,
      runs: mine.length,
      regression: count('regression'),
      inconclusive: count('inconclusive'),
      pass: count('pass'),
      error: count('error'),
      confirmed: mine.filter((record) => record.confirmed).length,
      medianP50Change: medianOf(mine.map((record) => record.p50Change)),
      medianP95Change: medianOf(mine.map((record) => record.p95Change)),
      medianSeconds: medianOf(mine.map((record) => record.seconds)),
    };
  });
}

/** "19/20 = 95%". */
export function share(count: number, of: number): string {
  return of === 0 ? `${count}/0 = n/a` : `${count}/${of} = ${((100 * count) / of).toFixed(count === of || count === 0 ? 0 : 1)}%`;
}

/** Exact one-sided 95% upper bound on a rate after `count` events in `of` trials (0 events: ≈ 3/n). */
export function upperBound(count: number, of: number): number {
  if (count >= of) return 1;
  // Clopper–Pearson by bisection on the binomial tail.
  const tail = (p: number) => {
    let sum = 0;
    let term = (1 - p) ** of;
    for (let k = 0; k <= count; k++) {
      sum += term;
      term *= ((of - k) / (k + 1)) * (p / (1 - p));
    }
    return sum;
  };
  let low = count / of;
  let high = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (tail(mid) > 0.05) low = mid;
    else high = mid;
  }
  return high;
}

const signed = (fraction: number | undefined) =>
  fraction === undefined ? '–' : `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}%`;

export function markdownTable(tallies: CaseTally[]): string {
  const lines = [
    '| mode, settings | injected slowdown | flagged regression | inconclusive | pass | error | confirmed | median measured change p50 / p95 | median s per run |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of tallies) {
    const flagged = `${share(t.regression, t.runs)} ${t.size === 0 ? '(false alarms)' : '(detected)'}`;
    lines.push(
      `| ${t.profile} | ${t.label} | ${flagged} | ${t.inconclusive} | ${t.pass} | ${t.error} | ${t.confirmed} | ` +
        `${signed(t.medianP50Change)} / ${signed(t.medianP95Change)} | ${t.medianSeconds?.toFixed(1) ?? '–'} |`,
    );
  }
  return lines.join('\n');
}

const DETECTION_GOAL = 0.95;
const FALSE_ALARM_GOAL = 0.01;

interface GoalSpec {
  goal: string;
  mode: Mode;
  cases: { kind: SlowdownKind; size: number }[];
}

/** The goals of issue 5, each judged per profile of its mode that measured its cases. */
export const GOALS: GoalSpec[] = [
  { goal: 'stored mode detects +10% p50', mode: 'stored', cases: [{ kind: 'all', size: 0.1 }] },
  { goal: 'stored mode detects +15% p95', mode: 'stored', cases: [{ kind: 'tail', size: 0.15 }] },
  {
    goal: 'A/B mode detects +5%',
    mode: 'ab',
    cases: [
      { kind: 'all', size: 0.05 },
      { kind: 'tail', size: 0.05 },
    ],
  },
];

export function judgeGoals(tallies: CaseTally[]): GoalResult[] {
  const results: GoalResult[] = [];
  for (const spec of GOALS) {
    const profiles = [...new Set(tallies.filter((t) => t.mode === spec.mode).map((t) => t.profile))];
    for (const profile of profiles) {
      const find = (kind: SlowdownKind, size: number) => tallies.find((t) => t.profile === profile && t.kind === kind && t.size === size);
      const detected = spec.cases.map((c) => find(c.kind, c.size));
      const quiet = find('all', 0);
      if (detected.some((t) => !t || t.runs === 0) || !quiet || quiet.runs === 0) continue;
      const shown = detected as CaseTally[];
      const detectionMet = shown.every((t) => t.regression / t.runs >= DETECTION_GOAL);
      const falseAlarmRate = quiet.regression / quiet.runs;
      const bound = upperBound(quiet.regression, quiet.runs);
      results.push({
        goal: `${spec.goal} in ≥ 95% of runs with ≤ 1% false alarms`,
        profile,
        met: detectionMet && falseAlarmRate <= FALSE_ALARM_GOAL,
        detection: shown.map((t) => `${t.label}: ${share(t.regression, t.runs)}`).join('; '),
        falseAlarms: share(quiet.regression, quiet.runs),
        note:
          bound > FALSE_ALARM_GOAL
            ? `${quiet.runs} runs cannot show ≤ 1% false alarms (95% upper bound ${(bound * 100).toFixed(0)}%); see bench/power-sim.ts for large counts`
            : '',
      });
    }
  }
  return results;
}

/** Seconds of load one run puts on the target: warmup and K bursts per target, twice when it confirms. */
export function loadSecondsPerRun(load: LoadSettings, mode: Mode, confirmed: boolean): number {
  const targets = mode === 'ab' ? 2 : 1;
  const bursts = load.bursts * (confirmed ? 2 : 1);
  return (targets * (load.warmupMs + bursts * load.durationMs)) / 1000;
}
