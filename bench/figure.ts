// One benchmark figure as printed, stored and written to BENCHMARKS.md, and its goal's outcome.

import type { Spread } from './stats.ts';

/** `missed widely` is what `--quick` fails on: a regression, not a noisy machine. */
export type GoalStatus = 'met' | 'missed' | 'missed widely' | 'missing';

export interface Figure {
  id: number;
  title: string;
  goal: string;
  status: GoalStatus;
  /** The one line that says how the goal went, with the number it was judged on. */
  verdict: string;
  table: string[][];
  notes: string[];
  raw: unknown;
}

/** `value` against a goal `value ≥ goal`, missing widely below `wide`. */
export function atLeast(value: number, goal: number, wide: number): GoalStatus {
  return value >= goal ? 'met' : value >= wide ? 'missed' : 'missed widely';
}

export function atMost(value: number, goal: number, wide: number): GoalStatus {
  return value <= goal ? 'met' : value <= wide ? 'missed' : 'missed widely';
}

export function worst(statuses: readonly GoalStatus[]): GoalStatus {
  const order: GoalStatus[] = ['missed widely', 'missing', 'missed', 'met'];
  return order.find((status) => statuses.includes(status)) ?? 'met';
}

export function fmt(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value)
    ? '—'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `min / **median** / max` */
export function fmtSpread(s: Spread, digits = 0): string {
  return `${fmt(s.min, digits)} / **${fmt(s.median, digits)}** / ${fmt(s.max, digits)}`;
}
