// The rules that judge one latency metric (p50 or p95) against its baseline: against the stored
// history of past runs, or against live baseline bursts (A/B). Everything is judged on logs, so
// "+10%" means the same distance at 2 ms and at 200 ms.

import type { ComparisonStatus } from './decision.ts';
import { bootstrapRatioOfMedians, mannWhitneyU, median, robustCentreAndSpread, studentQuantile } from './statistics.ts';
import { milliseconds, plainPercent, pValue, runs, signedPercent } from './wording.ts';

/** Below this many past runs the history's spread is not trusted: percent limit only. */
export const COLD_START_RUNS = 5;
/** The memory rule's band (historyBand) never assumes less than 3% run-to-run spread. */
const MIN_LOG_SPREAD = Math.log(1.03);
/** Width of the memory rule's prediction band in robust standard deviations. */
const BAND_SIGMAS = 3;
/**
 * The stored latency rule never assumes less run-to-run spread than this: below it a history of
 * identical figures (a cache, a quantised clock) would promise a precision no run has.
 */
const MIN_RUN_SPREAD = Math.log(1.01);
/** A past run further than this many robust standard deviations from the others is left out of the spread. */
const OUTLIER_SIGMAS = 3.5;
/** A MAD of fewer runs is too unsteady to say which run is an outlier (5 runs: 2 % false alarms instead of 1 %). */
const OUTLIER_MIN_RUNS = 10;
/** A slowdown of the limit's size is flagged in this share of runs. */
export const DETECTION_POWER = 0.95;
/**
 * At most this share of runs of unchanged code is flagged on one metric: two metrics (p50, p95)
 * are judged, so a run of unchanged code fails in at most 1 % (1.3 % with 1 % each, simulated).
 */
export const FALSE_ALARM_RATE = 0.005;
/** A change smaller than this is never a regression, whatever its percentage. */
const MIN_CHANGE_MS = 1;
/** Our histogram is microsecond HDR with 3 significant digits: values are exact to 1 part in 1000. */
const HISTOGRAM_RESOLUTION = 1e-3;
/** Smallest latency the histogram records (1 µs): keeps logs and ratios finite for zero figures. */
const SMALLEST_LATENCY_MS = 0.001;
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
  /** Stored mode: the smallest slowdown flagged in 95 % of runs (StoredRule.detectable). */
  minDetectableChange?: number;
}

const TOO_NOISY_ADVICE =
  'A/B mode (`baseline-url`) measures both builds side by side and catches less; a quieter host, longer bursts or more bursts narrow the history.';

export const logOf = (ms: number) => Math.log(Math.max(ms, SMALLEST_LATENCY_MS));

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
 * The memory rule's noise band on logs: the history's robust centre and the half-width a new run
 * may stray from it by chance (BAND_SIGMAS robust standard deviations, widened for a short history).
 */
export function historyBand(logs: number[]): { centre: number; halfBand: number } {
  const { centre, spread: rawSpread } = robustCentreAndSpread(logs);
  const spread = Math.max(rawSpread, MIN_LOG_SPREAD);
  return { centre, halfBand: BAND_SIGMAS * spread * Math.sqrt(1 + 1 / logs.length) };
}

/** How a regression adjustment (verdict/adjustment.ts) changed the history the rule reads. */
export interface FitShape {
  /** Slopes fitted on the history: each costs the spread a degree of freedom. */
  parameters: number;
  /** The slopes' own uncertainty at this run's covariates, in units of the residual variance. */
  leverage: number;
  /**
   * RMS of the history's leave-one-out prediction errors (log). The residuals' own spread is
   * optimistic after a model was chosen on the same runs; held-out errors are not.
   */
  heldOutError?: number;
}

/**
 * What the stored rule reads off a history of log run figures, and the threshold it sets.
 *
 * The run-to-run spread is the standard deviation of the runs within OUTLIER_SIGMAS robust
 * standard deviations of the median (from OUTLIER_MIN_RUNS runs: one disturbed run cannot widen
 * it, and it has the degrees of freedom of a standard deviation, which a MAD lacks); the centre is
 * their mean. A new run of
 * unchanged code then strays from the centre by `scale` × a Student t variable with `df` degrees
 * of freedom (a prediction interval). Two conditions set the threshold a run's log change must pass:
 *   catch:  ln(1 + limit) − t(95 %)·scale — a slowdown of the limit's size is flagged in 95 % of runs;
 *   quiet:  t(99.5 %)·scale — unchanged code is flagged in at most 0.5 % of runs on this metric,
 *           1 % on p50 and p95 together.
 * The threshold is the larger. When that is `quiet`, the history is too noisy for the limit, and
 * `detectable` (threshold + t(95 %)·scale) says what it does catch. Both rates are exact for
 * normal run-to-run noise whatever the spread turns out to be (the t distribution carries the
 * spread's own uncertainty), and bench/power-sim.ts measures them.
 */
export interface StoredRule {
  centre: number;
  spread: number;
  df: number;
  /** Standard deviation of a new run's log figure about `centre`. */
  scale: number;
  /** Log change above which a run is a regression. */
  threshold: number;
  /** The smallest slowdown flagged in 95 % of runs, a fraction: 0.077 is +7.7 %. */
  detectable: number;
}

export function storedRule(logs: number[], maxIncrease: number, fit: FitShape = { parameters: 0, leverage: 0 }): StoredRule {
  const robust = robustCentreAndSpread(logs);
  const reach = OUTLIER_SIGMAS * Math.max(robust.spread, MIN_RUN_SPREAD);
  const kept = logs.length < OUTLIER_MIN_RUNS ? logs : logs.filter((log) => Math.abs(log - robust.centre) <= reach);
  // Summed as distances from the median: identical runs then give their own figure back, not one rounded in the last digit.
  const centre = robust.centre + kept.reduce((sum, log) => sum + (log - robust.centre), 0) / kept.length;
  const df = Math.max(1, kept.length - 1 - fit.parameters);
  const variance = kept.reduce((sum, log) => sum + (log - centre) ** 2, 0) / df;
  // A held-out error holds each run's own leverage, about (parameters + 1) / N on average.
  const heldOut = (fit.heldOutError ?? 0) / Math.sqrt(1 + (fit.parameters + 1) / kept.length);
  const spread = Math.max(Math.sqrt(variance), heldOut, MIN_RUN_SPREAD);
  const scale = spread * Math.sqrt(1 + 1 / kept.length + fit.leverage);
  const catchStep = studentQuantile(DETECTION_POWER, df) * scale;
  const threshold = Math.max(Math.log1p(maxIncrease) - catchStep, studentQuantile(1 - FALSE_ALARM_RATE, df) * scale);
  return { centre, spread, df, scale, threshold, detectable: Math.expm1(threshold + catchStep) };
}

/**
 * Stored-baseline rule. `runFigures` holds each past run's figure (the median of its bursts, or
 * that adjusted to this run's host and network by verdict/adjustment.ts), oldest first; `current`
 * is this run's median of bursts. From COLD_START_RUNS runs a run is a regression above
 * StoredRule.threshold, which sits below the limit when the history is quiet enough (so a slowdown
 * of the limit's size is caught) and above it when it is not (so noise is not). With fewer runs
 * only the percent limit applies. Needs at least one run.
 */
export function judgeAgainstHistory(
  metric: LatencyMetric,
  runFigures: number[],
  current: number,
  maxIncrease: number,
  fit?: FitShape,
): LatencyJudgement {
  const logs = runFigures.map(logOf);
  const runCount = logs.length;
  const coldStart = runCount < COLD_START_RUNS;
  const rule = coldStart ? undefined : storedRule(logs, maxIncrease, fit);
  const centre = rule?.centre ?? median(logs);
  const baseline = Math.exp(centre);
  const logChange = logOf(current) - centre;
  const change = Math.expm1(logChange);
  const { large, floor } = largeEnough(baseline, current);
  const head = `${metric} ${signedPercent(change)} (limit +${plainPercent(maxIncrease)})`;
  const overBaseline = `${metric} ${signedPercent(change)} over baseline`;
  const judged = (status: LatencyJudgement['status'], reasoning: string, phrase?: string): LatencyJudgement => ({
    status,
    baseline,
    current,
    change,
    reasoning,
    phrase,
    ...(rule && { minDetectableChange: rule.detectable }),
    warning:
      rule && rule.detectable > maxIncrease
        ? `With this history (${runs(runCount)}), loadgate catches a ${metric} slowdown of ${signedPercent(rule.detectable)} or more in 95% of runs, ` +
          `above the +${plainPercent(maxIncrease)} limit: a slowdown between the two often passes. ${TOO_NOISY_ADVICE}`
        : undefined,
  });

  if (!rule) {
    const coldNote = `cold start: percent limit only (${runs(runCount)} in history)`;
    if (change > maxIncrease && !large) return judged('ok', belowFloorReason(head, baseline, current, floor));
    if (change > maxIncrease) return judged('regression', `${head}; ${coldNote}`, overBaseline);
    if (change < -maxIncrease && large) return judged('improved', `${metric} ${signedPercent(change)}, faster than baseline; ${coldNote}`);
    return judged('ok', `${head}; ${coldNote}`);
  }
  const threshold = Math.expm1(rule.threshold);
  const noise = `${runs(runCount)}, run-to-run spread ${signedPercent(Math.expm1(rule.spread)).slice(1)}`;
  if (logChange > rule.threshold) {
    if (!large) return judged('ok', belowFloorReason(head, baseline, current, floor));
    const belowLimit = change <= maxIncrease ? `, above the ${signedPercent(threshold)} threshold` : '';
    return judged('regression', `${head}, above the ${signedPercent(threshold)} threshold (${noise})`, `${overBaseline}${belowLimit}`);
  }
  if (change > maxIncrease) {
    return judged(
      'inconclusive',
      `${head}, but under the ${signedPercent(threshold)} threshold this history's noise needs (${noise})`,
      `${overBaseline}, inside the history's noise`,
    );
  }
  const quietBand = studentQuantile(1 - FALSE_ALARM_RATE, rule.df) * rule.scale;
  if (change < -maxIncrease && -logChange > quietBand && large) {
    return judged(
      'improved',
      `${metric} ${signedPercent(change)}, faster than baseline; below ${signedPercent(Math.expm1(-quietBand))} (${noise})`,
    );
  }
  return judged('ok', `${head}, under the ${signedPercent(threshold)} threshold (${noise})`);
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
