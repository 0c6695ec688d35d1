// The host's speed as a validity check on a stored-baseline verdict. Pure.
//
// A host held to its CPU-credit baseline, or sharing its cores, runs the same code 30–60 % slower:
// against a history measured on a faster day that reads as a regression of the code. The probe
// (watch/host-speed.ts) times a fixed workload on the host before each burst; a run's index is the
// median of its probes. When the history shows latency tracking the index, verdict/adjustment.ts
// has already taken that part out, within the range of speeds the history saw. This rule is for a
// host outside it: a latency regression becomes inconclusive, naming the host, when the host was
// HOST_SPEED_LIMIT or more slower than in its history, slower than the history covers (from
// ADJUSTMENT_MIN_RUNS runs with an index; adjustment.ts coveredRange: the probe's own spread
// between runs can be ±20 % on a shared machine, and a speed the history has seen is no excuse)
// AND that slowdown explains at least half
// of the latency rise (of the least-risen regressed percentile): a CPU-bound service on a host taking 1.39× as long per unit of work is up to
// 1.39× slower, so a +30 % p50 there says nothing about the code, while a +60 % p50 on a host 12 %
// slower (1.14×) still does. A memory regression does not depend on the host's speed and stays.

import type { ComparedMetric, Decision } from './decision.ts';
import { ADJUSTMENT_MIN_RUNS, coveredRange } from './adjustment.ts';
import { median } from './statistics.ts';
import { plainPercent, runs, signedPercent } from './wording.ts';

/** A host this much slower (or faster) than in its history changes what a latency means. */
export const HOST_SPEED_LIMIT = 0.1;
/**
 * A host this much slower judges nothing, whatever the rise: a saturated closed loop multiplies the
 * CPU's slowdown by its queue (p50 +264 % on a host measured ≈ 2× slower, 2 connections, measured).
 */
export const HOST_SPEED_UNJUDGEABLE = 0.3;

const LATENCY_METRICS: ReadonlySet<ComparedMetric> = new Set(['p50', 'p95', 'p99', 'requestsPerSec']);

export interface HostSpeedFigures {
  /** This run's index, MB/s of SHA-256 over zeros: the median of its probes before candidate bursts. */
  currentMbps: number;
  /** The median index of the baseline window's runs that have one. */
  historyMbps?: number;
  /** currentMbps / historyMbps − 1: −0.28 for a host 28 % slower. */
  change?: number;
  /** The slowest index the history covers: its slowest run's, less a quarter of its range (on logs). */
  historyReachMbps?: number;
  historyRuns: number;
}

/** This run's index from its host bursts; undefined when no probe before a candidate burst succeeded. */
export function runHostSpeedOf(bursts: ReadonlyArray<{ target: string; hostSpeed?: { mbPerSec: number } }>): number | undefined {
  const speeds = bursts.flatMap((burst) => (burst.target === 'candidate' && burst.hostSpeed ? [burst.hostSpeed.mbPerSec] : []));
  return speeds.length === 0 ? undefined : Number(median(speeds).toFixed(1));
}

export function hostSpeedFigures(
  currentMbps: number | undefined,
  /** The baseline window's runs (baseline/window.ts). */
  history: ReadonlyArray<{ hostSpeedMbps?: number }>,
): HostSpeedFigures | undefined {
  if (currentMbps === undefined) return undefined;
  const stored = history.flatMap((run) => (run.hostSpeedMbps === undefined ? [] : [run.hostSpeedMbps]));
  if (stored.length === 0) return { currentMbps, historyRuns: 0 };
  const historyMbps = Number(median(stored).toFixed(1));
  return {
    currentMbps,
    historyMbps,
    change: currentMbps / historyMbps - 1,
    historyReachMbps: Number(Math.exp(coveredRange(stored.map(Math.log)).low).toFixed(1)),
    historyRuns: stored.length,
  };
}

const capitalized = (text: string) => `${text[0]!.toUpperCase()}${text.slice(1)}`;

/** "28 % slower" / "12 % faster". */
function speedPhrase(change: number): string {
  return `${plainPercent(Math.abs(Number(change.toFixed(2))))} ${change < 0 ? 'slower' : 'faster'}`;
}

export function applyHostSpeedRule(decision: Decision, speed: HostSpeedFigures | undefined): Decision {
  if (speed?.change === undefined || speed.historyMbps === undefined) return decision;
  if (decision.mode !== 'history' && decision.mode !== 'cold-start') return decision;
  const { change } = speed;
  const figures = `${speed.currentMbps} MB/s against the history's ${speed.historyMbps} MB/s (${runs(speed.historyRuns)})`;
  const note = `Host speed (SHA-256 over zeros on the host, before each burst): ${figures}.`;
  const withNote = { ...decision, notes: [...decision.notes, note] };
  const regressions = decision.comparisons.filter((row) => row.status === 'regression');
  // How much longer the host took for the same work: 1 / (1 + change).
  const hostTimeRatio = speed.historyMbps / speed.currentMbps;
  // The least-risen regressed percentile: on a slower host queueing stretches the tail far more
  // than the median (p50 +270 %, p95 +590 % on a host taking 3.2× as long, measured).
  const rises = regressions.flatMap((row) => (row.metric !== 'requestsPerSec' && row.change !== undefined ? [row.change] : []));
  const rise = rises.length === 0 ? 0 : Math.min(...rises);
  const unseen = speed.historyRuns < ADJUSTMENT_MIN_RUNS || speed.currentMbps < (speed.historyReachMbps ?? 0);
  if (change <= -HOST_SPEED_LIMIT && unseen && decision.verdict === 'regression' && !decision.crashed) {
    if (!regressions.every((row) => LATENCY_METRICS.has(row.metric))) return withNote;
    const slower = `the host ran ${speedPhrase(change)} than in its history`;
    if (change > -HOST_SPEED_UNJUDGEABLE && hostTimeRatio - 1 < rise / 2) {
      return {
        ...withNote,
        warnings: [
          ...decision.warnings,
          `${capitalized(slower)} (${figures}), too little to explain a rise of ${signedPercent(rise)}: judged as measured.`,
        ],
      };
    }
    const why = `${slower} (CPU credits, steal or a neighbour)`;
    return {
      ...withNote,
      verdict: 'inconclusive',
      headline: `${why}: ${decision.headline}, not judged`,
      comparisons: decision.comparisons.map((row) =>
        row.status === 'regression' ? { ...row, status: 'inconclusive', reasoning: `${row.reasoning}; not judged: ${why}` } : row,
      ),
      warnings: [
        ...decision.warnings,
        `${capitalized(slower)} (${figures}): the same code is slower there too, so the latency ` +
          'rise is not blamed on this change. Run again, or measure against a live baseline on the same host (`baseline-url`).',
      ],
    };
  }
  if (change >= HOST_SPEED_LIMIT && decision.verdict === 'pass') {
    return {
      ...withNote,
      warnings: [
        ...decision.warnings,
        `The host ran ${speedPhrase(change)} than in its history (${figures}): a slowdown of about that much would not show.`,
      ],
    };
  }
  return withNote;
}
