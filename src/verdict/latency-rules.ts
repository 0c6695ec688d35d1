// The rules that judge one latency metric (p50 or p95) against its baseline: against the stored
// history of past runs, or against live baseline bursts (A/B). Everything is judged on logs, so
// "+10%" means the same distance at 2 ms and at 200 ms.

import type { ComparisonStatus } from './decision.ts';
import { bootstrapRatioOfMedians, mannWhitneyU, median, robustCentreAndSpread } from './statistics.ts';
import { milliseconds, plainPercent, pValue, runs, signedPercent } from './wording.ts';

/** Below this many past runs the noise band is not trusted: percent limit only. */
export const COLD_START_RUNS = 5;
/** The noise band never assumes less than 3% run-to-run spread, however quiet the history. */
const MIN_LOG_SPREAD = Math.log(1.03);
/** Width of the prediction band in robust standard deviations. */
const BAND_SIGMAS = 3;
/** A change smaller than this is never a regression, whatever its percentage. */
const MIN_CHANGE_MS = 1;
/** Our histogram is microsecond HDR with 3 significant digits: values are exact to 1 part in 1000. */
const HISTOGRAM_RESOLUTION = 1e-3;
/** Smallest latency the histogram records (1 µs): keeps logs and ratios finite for zero figures. */
const SMALLEST_LATENCY_MS = 0.001;
/** One-sided 95 %: a slowdown this many spreads past the threshold is flagged in 95 % of runs. */
const DETECTION_Z = 1.645;
/** A/B regressions also need the rank test to agree at this level. */
export const AB_SIGNIFICANCE = 0.05;

export type LatencyMetric = 'p50' | 'p95';

export interface LatencyJudgement {
  status: Exclude<ComparisonStatus, 'info'>;
  baseline: number;
  current: number;
  change: number;
  reasoning: string;
  /** Short form for the headline, set for regressions and inconclusive results. */
  phrase?: string;
  warning?: string;
  /** Stored mode: the smallest slowdown flagged in 95 % of runs (minDetectableChange). */
  minDetectableChange?: number;
}

const TOO_NOISY_ADVICE = 'Use more bursts, longer bursts, a quieter host, or A/B mode (baseline-url).';

const logOf = (ms: number) => Math.log(Math.max(ms, SMALLEST_LATENCY_MS));

/** Whether a change is large enough in absolute terms to be a regression (or an improvement). */
function largeEnough(baseline: number, current: number): { large: boolean; floor: number } {
  const floor = Math.max(MIN_CHANGE_MS, HISTOGRAM_RESOLUTION * Math.max(baseline, current));
  return { large: Math.abs(current - baseline) >= floor, floor };
}

function belowFloorReason(head: string, baseline: number, current: number, floor: number): string {
  const difference = current - baseline;
  return `${head}, but only ${difference >= 0 ? '+' : '-'}${milliseconds(Math.abs(difference))}, under the ${milliseconds(floor)} minimum change`;
}

/**
 * The history's noise band on logs: its robust centre and the half-width a new run may stray from
 * it by chance (BAND_SIGMAS robust standard deviations, widened for a short history).
 */
export function historyBand(logs: number[]): { centre: number; halfBand: number } {
  const { centre, spread: rawSpread } = robustCentreAndSpread(logs);
  const spread = Math.max(rawSpread, MIN_LOG_SPREAD);
  return { centre, halfBand: BAND_SIGMAS * spread * Math.sqrt(1 + 1 / logs.length) };
}

/**
 * The smallest slowdown the stored rule flags in 95 % of runs with this history: a run's log figure
 * strays from its true value by about the history's run-to-run spread, and is flagged above both
 * the percent limit and (from COLD_START_RUNS runs) the noise band. Ignores MIN_CHANGE_MS, which
 * only matters below 10 ms. A fraction: 0.155 is +15.5 %.
 */
export function minDetectableChange(runFigures: number[], maxIncrease: number): number {
  const logs = runFigures.map(logOf);
  const spread = Math.max(robustCentreAndSpread(logs).spread, MIN_LOG_SPREAD);
  const threshold = logs.length < COLD_START_RUNS ? Math.log1p(maxIncrease) : Math.max(Math.log1p(maxIncrease), historyBand(logs).halfBand);
  // The run strays by its own spread, the median it is compared with by π/2N of it again, and a
  // spread read off N runs (a MAD) is itself uncertain: widened by 1.5/√N (checked by simulation).
  const n = logs.length;
  return Math.expm1(threshold + DETECTION_Z * spread * Math.sqrt(1 + Math.PI / (2 * n)) * (1 + 1.5 / Math.sqrt(n)));
}

/**
 * Stored-baseline rule. `runFigures` holds each past run's figure (the median of its bursts),
 * oldest first; `current` is this run's median of bursts. With fewer than COLD_START_RUNS runs only
 * the percent limit applies. Needs at least one run.
 */
export function judgeAgainstHistory(metric: LatencyMetric, runFigures: number[], current: number, maxIncrease: number): LatencyJudgement {
  const logs = runFigures.map(logOf);
  const runCount = logs.length;
  const { centre, halfBand } = historyBand(logs);
  const baseline = Math.exp(centre);
  const ratio = Math.exp(logOf(current) - centre);
  const change = ratio - 1;
  const bandUpper = Math.exp(halfBand) - 1;
  const bandLower = Math.exp(-halfBand) - 1;
  const coldStart = runCount < COLD_START_RUNS;
  const { large, floor } = largeEnough(baseline, current);
  const head = `${metric} ${signedPercent(change)} (limit +${plainPercent(maxIncrease)})`;
  const band = `(upper limit ${signedPercent(bandUpper)}, ${runs(runCount)})`;
  const coldNote = `cold start: percent limit only (${runs(runCount)} in history)`;
  const judged = (status: LatencyJudgement['status'], reasoning: string, phrase?: string): LatencyJudgement => ({
    status,
    baseline,
    current,
    change,
    reasoning,
    phrase,
    minDetectableChange: minDetectableChange(runFigures, maxIncrease),
    warning:
      !coldStart && bandUpper > 2 * maxIncrease
        ? `The ${metric} history is too noisy for the +${plainPercent(maxIncrease)} limit: its noise band reaches ${signedPercent(bandUpper)} (${runs(runCount)}), so only slowdowns beyond that can fail the check. ${TOO_NOISY_ADVICE}`
        : undefined,
  });

  if (ratio > 1 + maxIncrease) {
    if (!large) return judged('ok', belowFloorReason(head, baseline, current, floor));
    if (coldStart) return judged('regression', `${head}; ${coldNote}`, `${metric} ${signedPercent(change)} over baseline`);
    if (ratio > Math.exp(halfBand)) {
      return judged('regression', `${head}, above the history's noise band ${band}`, `${metric} ${signedPercent(change)} over baseline`);
    }
    return judged(
      'inconclusive',
      `${head}, but inside the history's noise band ${band}`,
      `${metric} ${signedPercent(change)} over baseline, inside the history's noise band`,
    );
  }
  const improved = ratio < 1 - maxIncrease && large && (coldStart || ratio < Math.exp(-halfBand));
  if (improved) {
    const where = coldStart ? coldNote : `below the history's noise band (lower limit ${signedPercent(bandLower)}, ${runs(runCount)})`;
    return judged('improved', `${metric} ${signedPercent(change)}, faster than baseline; ${where}`);
  }
  return judged('ok', coldStart ? `${head}; ${coldNote}` : `${head}, within the limit (${runs(runCount)})`);
}

/**
 * A/B rule: this run's candidate bursts against the baseline-url bursts measured alternately.
 * Regression when the bootstrap CI of the ratio of medians lies above 1, the ratio exceeds the
 * limit, and the one-sided Mann–Whitney test agrees (p < 0.05); pass when the CI's upper bound is
 * under the limit. Needs at least one burst on each side.
 */
export function judgeAB(
  metric: LatencyMetric,
  baselineFigures: number[],
  candidateFigures: number[],
  maxIncrease: number,
): LatencyJudgement {
  const base = baselineFigures.map((v) => Math.max(v, SMALLEST_LATENCY_MS));
  const cand = candidateFigures.map((v) => Math.max(v, SMALLEST_LATENCY_MS));
  const interval = bootstrapRatioOfMedians(base, cand);
  if (!interval) throw new Error('judgeAB needs at least one burst on each side');
  const test = mannWhitneyU(base.map(Math.log), cand.map(Math.log));
  const baseline = median(baselineFigures);
  const current = median(candidateFigures);
  const change = interval.ratio - 1;
  const limit = 1 + maxIncrease;
  const { large, floor } = largeEnough(baseline, current);
  const head = `${metric} ${signedPercent(change)} (limit +${plainPercent(maxIncrease)})`;
  const ci = `95% CI ${signedPercent(interval.lower - 1)} to ${signedPercent(interval.upper - 1)}`;
  const evidence = `Mann–Whitney p ${pValue(test.p)}, ${base.length} vs ${cand.length} bursts`;
  const judged = (status: LatencyJudgement['status'], reasoning: string, phrase?: string): LatencyJudgement => ({
    status,
    baseline,
    current,
    change,
    reasoning,
    phrase,
    warning:
      interval.upper - interval.lower > 2 * maxIncrease
        ? `The ${metric} bursts are too noisy for the +${plainPercent(maxIncrease)} limit: the ${ci} spans more than twice the limit. Use more bursts, longer bursts or a quieter host.`
        : undefined,
  });

  if (interval.ratio > limit && !large) return judged('ok', belowFloorReason(head, baseline, current, floor));
  if (interval.ratio > limit && interval.lower > 1) {
    if (test.p < AB_SIGNIFICANCE) {
      return judged('regression', `${head}, ${ci} excludes no change (${evidence})`, `${metric} ${signedPercent(change)} over baseline`);
    }
    return judged(
      'inconclusive',
      `${head}, ${ci}, but the rank test is not convinced (${evidence}; needs < ${AB_SIGNIFICANCE})`,
      `${metric} ${signedPercent(change)} over baseline, not significant`,
    );
  }
  if (interval.upper < 1 && interval.ratio < 1 - maxIncrease && large) {
    return judged('improved', `${metric} ${signedPercent(change)}, faster than baseline, ${ci} (${evidence})`);
  }
  if (interval.upper < limit) return judged('ok', `${head}, ${ci} stays under the limit (${evidence})`);
  const why = interval.lower <= 1 ? 'includes no change' : 'reaches past the limit';
  return judged('inconclusive', `${head}, ${ci} ${why} (${evidence})`, `${metric} ${signedPercent(change)} over baseline, ${ci} ${why}`);
}
