// Regression adjustment of a stored history on what else each run measured (CUPED-style). Pure.
//
// A run's latency moves with things that are not the code: the host's speed (CPU credits, steal, a
// neighbour; watch/host-speed.ts) and, for a saturated service, the network round trip. Each stored
// run carries those figures. When the history shows its log latency tracking them, the tracked part
// is taken out: every past run is moved to what it would have measured under this run's host speed
// and RTT, y_i + b·(z_now − z_i), with the slopes b fitted by least squares over the history. The
// stored rule then judges this run against that adjusted history, whose spread is only what the
// covariates do not explain.
//
// Two guards, because dividing by a control measurement naively adds its noise and hides real
// regressions (phpbench issue 494):
// - A covariate is used only when leave-one-out cross-validation over the history shows the model
//   with it predicting a held-out run's latency at least MIN_GAIN better than the history's mean
//   does. A probe that explains nothing is never used, so it cannot widen the band.
// - This run's covariates are clamped to the range the history covered, widened by REACH of its
//   width on each side: the adjustment extrapolates at most that far, so it moves the baseline by
//   little more than the history itself saw. (Without the margin, a run outside the history's
//   range, 1 in N + 1 by chance alone, was not judged: profile R of bench/power-sim.ts caught
//   +10 % in 83 % of runs instead of 95.) A slowdown the covariates do not explain is left whole;
//   verdict/host-speed-rule.ts judges a host slower than the history reaches.

import type { FitShape } from './latency-rules.ts';

/** Fewer runs than this cannot both fit slopes and cross-validate them. */
export const ADJUSTMENT_MIN_RUNS = 8;
/** The held-out prediction error must shrink by at least this share for a model to be used. */
const MIN_GAIN = 0.1;
/** How far beyond the history's own range, in shares of its width, a covariate still counts as covered. */
export const REACH = 0.25;

/** The range of a covariate the history covers: its lowest to highest value, widened by REACH of the width. */
export function coveredRange(values: readonly number[]): { low: number; high: number } {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const margin = REACH * (high - low);
  return { low: low - margin, high: high + margin };
}

export type CovariateName = 'host speed' | 'network RTT';

export interface Covariate {
  name: CovariateName;
  /** Each past run's value, in the scale latency tracks linearly (log MB/s, ms); undefined where it has none. */
  history: ReadonlyArray<number | undefined>;
  current: number | undefined;
}

export interface Adjustment {
  /** The past runs' log figures as measured under this run's (clamped) covariates. */
  logs: number[];
  fit: FitShape;
  /** The covariates used, with their slopes (log latency per unit). */
  used: Array<{ name: CovariateName; slope: number }>;
  /** Held-out prediction error (RMS, log) without and with the adjustment. */
  heldOutError: { without: number; with: number };
}

/** Least squares with an intercept: slopes of y on the columns of `z` (rows are runs). Undefined when singular. */
function slopes(
  y: readonly number[],
  z: readonly number[][],
): { slopes: number[]; yMean: number; zMean: number[]; inverse: number[][] } | undefined {
  const n = y.length;
  const p = z[0]!.length;
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const zMean = Array.from({ length: p }, (_, j) => z.reduce((sum, row) => sum + row[j]!, 0) / n);
  // Normal equations on centred data: (ZᵀZ) b = Zᵀy.
  const zz = Array.from({ length: p }, (_, j) =>
    Array.from({ length: p }, (_, k) => z.reduce((sum, row) => sum + (row[j]! - zMean[j]!) * (row[k]! - zMean[k]!), 0)),
  );
  const zy = Array.from({ length: p }, (_, j) => z.reduce((sum, row, i) => sum + (row[j]! - zMean[j]!) * (y[i]! - yMean), 0));
  const inverse = invert(zz);
  if (!inverse) return undefined;
  return { slopes: inverse.map((row) => row.reduce((sum, value, k) => sum + value * zy[k]!, 0)), yMean, zMean, inverse };
}

/** Gauss–Jordan inverse of a small symmetric matrix; undefined when (nearly) singular. */
function invert(matrix: readonly number[][]): number[][] | undefined {
  const p = matrix.length;
  const scale = Math.max(...matrix.map((row, j) => Math.abs(row[j]!)));
  if (!(scale > 0)) return undefined;
  const work = matrix.map((row, j) => [...row, ...Array.from({ length: p }, (_, k) => (j === k ? 1 : 0))]);
  for (let column = 0; column < p; column++) {
    let pivot = column;
    for (let row = column + 1; row < p; row++) if (Math.abs(work[row]![column]!) > Math.abs(work[pivot]![column]!)) pivot = row;
    if (Math.abs(work[pivot]![column]!) < 1e-9 * scale) return undefined;
    [work[column], work[pivot]] = [work[pivot]!, work[column]!];
    const lead = work[column]![column]!;
    work[column] = work[column]!.map((value) => value / lead);
    for (let row = 0; row < p; row++) {
      if (row === column) continue;
      const factor = work[row]![column]!;
      work[row] = work[row]!.map((value, k) => value - factor * work[column]![k]!);
    }
  }
  return work.map((row) => row.slice(p));
}

/** RMS error of predicting each run from all the others, with the model on columns `z` (none: the mean). */
function heldOutError(y: readonly number[], z: readonly number[][] | undefined): number | undefined {
  let squares = 0;
  for (let i = 0; i < y.length; i++) {
    const others = y.filter((_, k) => k !== i);
    let predicted: number;
    if (!z) predicted = others.reduce((a, b) => a + b, 0) / others.length;
    else {
      const fit = slopes(
        others,
        z.filter((_, k) => k !== i),
      );
      if (!fit) return undefined;
      predicted = fit.yMean + fit.slopes.reduce((sum, b, j) => sum + b * (z[i]![j]! - fit.zMean[j]!), 0);
    }
    squares += (y[i]! - predicted) ** 2;
  }
  return Math.sqrt(squares / y.length);
}

/** Every non-empty subset of the covariates, smallest first. */
function subsets<T>(items: readonly T[]): T[][] {
  const all: T[][] = [];
  for (let mask = 1; mask < 1 << items.length; mask++) all.push(items.filter((_, i) => mask & (1 << i)));
  return all.sort((a, b) => a.length - b.length);
}

/**
 * The history adjusted to this run's covariates, or undefined when no covariate earns its place
 * (too few runs, a covariate missing somewhere, or no model beating the mean by MIN_GAIN).
 *
 * `levelFrom`: the history's level moved at this run (verdict/change-points.ts). The model then
 * has a level of its own for the runs before it, always, and the covariates must beat that model;
 * the runs before are moved to the newest level too. How latency tracks host speed and RTT does not
 * change with a step in the code's speed, so the slopes and the spread are read off every run,
 * while the level is the newest segment's alone: a young segment is too short to fit them itself.
 */
export function adjustHistory(
  logs: readonly number[],
  covariates: readonly Covariate[],
  { levelFrom = 0 }: { levelFrom?: number } = {},
): Adjustment | undefined {
  if (logs.length < ADJUSTMENT_MIN_RUNS) return undefined;
  const usable = covariates.filter(
    (c): c is Covariate & { current: number; history: number[] } =>
      c.current !== undefined && c.history.length === logs.length && c.history.every((value) => value !== undefined),
  );
  // The earlier level's indicator: 1 before the change, 0 from it on, and 0 for this run.
  const level = (i: number) => (levelFrom > 0 ? [i < levelFrom ? 1 : 0] : []);
  const without = heldOutError(logs, levelFrom > 0 ? logs.map((_, i) => level(i)) : undefined)!;
  let best: { set: typeof usable; error: number } | undefined;
  for (const set of subsets(usable)) {
    const error = heldOutError(
      logs,
      logs.map((_, i) => [...set.map((c) => c.history[i]!), ...level(i)]),
    );
    if (error !== undefined && error < (1 - MIN_GAIN) * without && (!best || error < best.error)) best = { set, error };
  }
  if (!best) return undefined;
  const z = logs.map((_, i) => [...best.set.map((c) => c.history[i]!), ...level(i)]);
  const fit = slopes(logs, z)!;
  const now = [
    ...best.set.map((c) => {
      const { low, high } = coveredRange(c.history);
      return Math.min(Math.max(c.current, low), high);
    }),
    ...(levelFrom > 0 ? [0] : []),
  ];
  const shift = (row: readonly number[]) => fit.slopes.reduce((sum, b, j) => sum + b * (now[j]! - row[j]!), 0);
  const offset = now.map((value, j) => value - fit.zMean[j]!);
  const leverage = offset.reduce((sum, a, j) => sum + a * fit.inverse[j]!.reduce((inner, value, k) => inner + value * offset[k]!, 0), 0);
  return {
    logs: logs.map((y, i) => y + shift(z[i]!)),
    fit: { parameters: z[0]!.length, leverage, heldOutError: best.error },
    used: best.set.map((c, j) => ({ name: c.name, slope: fit.slopes[j]! })),
    heldOutError: { without, with: best.error },
  };
}
