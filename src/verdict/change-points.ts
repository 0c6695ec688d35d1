// Change points in a stored history: where the level of one judged figure moved, so a run is judged
// against the runs since the last move instead of the whole window. Pure and deterministic: no
// random permutations, the same history always gives the same change points.
//
// The method is E-Divisive means (Matteson & James 2014, as in MongoDB's CI, Daly et al. ICPE 2020)
// with the two changes Hunter made to it (Fleming et al. ICPE 2023, now Apache Otava): a Student t
// test instead of a permutation test, and a split pass at a relaxed level followed by a merge pass
// at the real one. Written from the papers and Otava's documentation, in our own form:
//
// 1. Split. In a segment, the candidate is the split τ (with an end κ) that maximises the energy
//    divergence Q̂ between runs [start, τ) and [τ, κ): mean distance between the two sides minus the
//    mean distances within each, weighted by n·m/(n+m). Letting κ stop short of the segment's end
//    finds a level that moved and moved back (a two-run blip, a reverted slowdown), which a split
//    compared with the whole rest of the segment dilutes. The two sides are compared by a pooled
//    two-sided t test; a split kept at SPLIT_LEVEL_FACTOR × maxPValue recurses into both halves.
// 2. Merge. Each change point moves to the place between its neighbours with the largest Q̂, and
//    is tested again against its two neighbouring segments; the weakest one that fails (p above
//    maxPValue, else a change smaller than minMagnitude) goes, and the rest are placed and tested
//    again, until all pass (Otava's merge step, plus the move).
//
// Where this differs from Otava, and why:
// - Every p-value is multiplied by the number of places the split could have been made (Bonferroni).
//   Otava's p-value is that of the chosen split as if it had been fixed in advance, which is why its
//   default level is 0.001 and what it promises for a history with no change is unstated. Corrected,
//   one spurious change appears in at most maxPValue of such histories (normal noise, of any size);
//   more than one needs each to pass against its neighbours. The move in the merge step is covered
//   by the same count: it searches the places already counted.
// - Every segment has at least minSegment runs, the newest too. A change with one run after it is a
//   single odd run, indistinguishable from an outlier; with two, the gate can already say "the
//   history changed 2 runs ago" and judge against those two as a cold start.
// - Otava slides a window of 50 runs over long series; a gate keeps a few dozen, searched whole.
// - The move: without it the merge can drop the one split that mattered. A slow drift cut first
//   near its start, then elsewhere, loses its splits one by one, and the last one left, still near
//   the start, fails against a long rising remainder; moved to the middle it holds.
//
// Values are expected on the log scale (Math.log of a latency, a memory size, a capacity): noise
// there is additive and of one size at every level, as the t test assumes, and a step is a ratio.
// So meanBefore and meanAfter are means of logs (exp gives geometric means), relativeChange is
// exp(meanAfter − meanBefore) − 1, and minMagnitude is a distance in logs (0.02 ≈ a 2 % change).

/** A split kept in the split pass needs p ≤ this × maxPValue; the merge pass then applies maxPValue. */
const SPLIT_LEVEL_FACTOR = 10;

export interface ChangePointOptions {
  /**
   * The level of the t test, after the correction for where the split was searched: on a history
   * with no change, the share of histories that show one.
   */
  maxPValue?: number;
  /** The fewest runs a segment may have, the newest included (≥ 2). */
  minSegment?: number;
  /** The smallest |meanAfter − meanBefore| (in the values' units: logs) that counts as a change. */
  minMagnitude?: number;
}

/**
 * For a gate keeping 5–40 runs per figure with 1–5 % run-to-run noise:
 * - maxPValue: a false change only shortens one figure's history (a weaker judgement, not a failed
 *   run), a missed one judges runs against the wrong level; a run judges several figures (p50 and
 *   p95 per endpoint, memory, capacity), so each stays well under 1 % of histories changed by
 *   chance. Otava's 0.001, uncorrected, is a looser level over a history of a few dozen runs.
 * - minSegment: 2, the fewest runs that are a level and not an outlier (see the header).
 * - minMagnitude: a step under 2 % moves the level a run is judged against by a fifth of the
 *   default 10 % limit at most, not worth halving the history for; it also keeps a slow drift from
 *   being cut into many small steps. Otava's 0 reports every significant change, for triage.
 */
export const DEFAULT_CHANGE_POINT_OPTIONS: Required<ChangePointOptions> = {
  maxPValue: 0.005,
  minSegment: 2,
  minMagnitude: 0.02,
};

export interface ChangePoint {
  /** The first run (index into the values, oldest first) of the new level. */
  index: number;
  /** Mean of the values of the segment before, from the previous change point (logs). */
  meanBefore: number;
  /** Mean of the values of the segment from this change point to the next one (logs). */
  meanAfter: number;
  /** exp(meanAfter − meanBefore) − 1: −0.25 when the new level is 25 % lower on the raw scale. */
  relativeChange: number;
  /** The t test's two-sided p-value times the number of places searched, capped at 1. */
  pValue: number;
}

/**
 * The history's change points, oldest first. `values` are one figure per run, oldest first, on the
 * log scale. A change needs at least `minSegment` runs on each side of it.
 */
export function findChangePoints(values: readonly number[], options: ChangePointOptions = {}): ChangePoint[] {
  const settings = validOptions(options);
  values.forEach((value, index) => {
    if (!Number.isFinite(value)) throw new RangeError(`findChangePoints: value ${index} is ${value}, not a finite number`);
  });
  const history = new History(values);
  const splits: number[] = [];
  splitSegment(history, 0, values.length, settings, splits);
  splits.sort((a, b) => a - b);
  return mergeWeakest(history, splits, settings);
}

/** Where the newest segment starts: the last change point's index, 0 when the history has none. */
export function lastSegmentStart(values: readonly number[], options: ChangePointOptions = {}): number {
  return findChangePoints(values, options).at(-1)?.index ?? 0;
}

function validOptions(options: ChangePointOptions): Required<ChangePointOptions> {
  const settings = { ...DEFAULT_CHANGE_POINT_OPTIONS, ...options };
  if (!(settings.maxPValue > 0 && settings.maxPValue < 1)) throw new RangeError(`maxPValue must be in (0, 1), got ${settings.maxPValue}`);
  if (!(Number.isInteger(settings.minSegment) && settings.minSegment >= 2)) {
    throw new RangeError(`minSegment must be a whole number ≥ 2, got ${settings.minSegment}`);
  }
  if (!(settings.minMagnitude >= 0)) throw new RangeError(`minMagnitude must be ≥ 0, got ${settings.minMagnitude}`);
  return settings;
}

/** The values with prefix sums, so any segment's mean, variance and pairwise distances cost O(1). */
class History {
  readonly length: number;
  private readonly sum: Float64Array;
  private readonly sumOfSquares: Float64Array;
  /** distance[i][j] summed over i < a, j < b, stored at a·(n + 1) + b. */
  private readonly distance: Float64Array;

  constructor(values: readonly number[]) {
    const n = values.length;
    this.length = n;
    this.sum = new Float64Array(n + 1);
    this.sumOfSquares = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.sum[i + 1] = this.sum[i] + values[i];
      this.sumOfSquares[i + 1] = this.sumOfSquares[i] + values[i] * values[i];
    }
    const width = n + 1;
    this.distance = new Float64Array(width * width);
    for (let a = 1; a <= n; a++) {
      for (let b = 1; b <= n; b++) {
        this.distance[a * width + b] =
          Math.abs(values[a - 1] - values[b - 1]) +
          this.distance[(a - 1) * width + b] +
          this.distance[a * width + b - 1] -
          this.distance[(a - 1) * width + b - 1];
      }
    }
  }

  mean(from: number, to: number): number {
    return (this.sum[to] - this.sum[from]) / (to - from);
  }

  /** Sum of squared deviations from the segment's mean. */
  squaredDeviations(from: number, to: number): number {
    const total = this.sum[to] - this.sum[from];
    return Math.max(0, this.sumOfSquares[to] - this.sumOfSquares[from] - (total * total) / (to - from));
  }

  /** Σ |x_i − x_j| over i in [rowFrom, rowTo), j in [columnFrom, columnTo). */
  private distances(rowFrom: number, rowTo: number, columnFrom: number, columnTo: number): number {
    const width = this.length + 1;
    const at = (a: number, b: number) => this.distance[a * width + b];
    return at(rowTo, columnTo) - at(rowFrom, columnTo) - at(rowTo, columnFrom) + at(rowFrom, columnFrom);
  }

  /** Mean |x_i − x_j| over the pairs i < j within [from, to); 0 for a single run. */
  private meanDistanceWithin(from: number, to: number): number {
    const count = to - from;
    return count < 2 ? 0 : this.distances(from, to, from, to) / (count * (count - 1));
  }

  /** E-Divisive's Q̂ (exponent 1) between [from, split) and [split, to). */
  divergence(from: number, split: number, to: number): number {
    const n = split - from;
    const m = to - split;
    const between = this.distances(from, split, split, to) / (n * m);
    const energy = 2 * between - this.meanDistanceWithin(from, split) - this.meanDistanceWithin(split, to);
    return ((n * m) / (n + m)) * energy;
  }
}

/** Places a split of [from, to) can be made leaving minSegment runs on each side. */
const placesToSplit = (from: number, to: number, minSegment: number) => Math.max(0, to - from - 2 * minSegment + 1);

/** Pooled two-sided t test of [from, split) against [split, to), corrected for `places` searched. */
function correctedPValue(history: History, from: number, split: number, to: number, places: number): number {
  const n = split - from;
  const m = to - split;
  const difference = history.mean(split, to) - history.mean(from, split);
  const df = n + m - 2;
  const variance = (history.squaredDeviations(from, split) + history.squaredDeviations(split, to)) / df;
  // Identical runs on each side: any difference in level is certain, none is no evidence.
  if (variance === 0) return difference === 0 ? 1 : 0;
  const t = Math.abs(difference) / Math.sqrt(variance * (1 / n + 1 / m));
  return Math.min(1, places * studentTwoSidedP(t, df));
}

/**
 * The split of [from, to) with the largest Q̂, leaving minSegment runs on each side; with `shortEnds`
 * the right side may also stop short of `to` (E-Divisive's κ), else it runs to `to`. Ties go to the
 * earliest split, so the answer never depends on anything but the values.
 */
function strongestSplit(
  history: History,
  from: number,
  to: number,
  minSegment: number,
  shortEnds: boolean,
): { split: number; end: number } {
  let best = { split: -1, end: -1, divergence: Number.NEGATIVE_INFINITY };
  for (let split = from + minSegment; split <= to - minSegment; split++) {
    for (let end = shortEnds ? split + minSegment : to; end <= to; end++) {
      const divergence = history.divergence(from, split, end);
      if (divergence > best.divergence) best = { split, end, divergence };
    }
  }
  return best;
}

function splitSegment(history: History, from: number, to: number, settings: Required<ChangePointOptions>, splits: number[]): void {
  const places = placesToSplit(from, to, settings.minSegment);
  if (places === 0) return;
  const { split, end } = strongestSplit(history, from, to, settings.minSegment, true);
  if (correctedPValue(history, from, split, end, places) > SPLIT_LEVEL_FACTOR * settings.maxPValue) return;
  splits.push(split);
  splitSegment(history, from, split, settings, splits);
  splitSegment(history, split, to, settings, splits);
}

/**
 * The merge step (see the header): each round moves every split to the place between its neighbours
 * with the largest Q̂, tests it against them, and drops the weakest failing one; none failing ends it.
 */
function mergeWeakest(history: History, splits: number[], settings: Required<ChangePointOptions>): ChangePoint[] {
  const kept = [...splits];
  const bounds = (k: number) => ({ from: k === 0 ? 0 : kept[k - 1], to: k === kept.length - 1 ? history.length : kept[k + 1] });
  for (;;) {
    for (let k = 0; k < kept.length; k++) {
      const { from, to } = bounds(k);
      kept[k] = strongestSplit(history, from, to, settings.minSegment, false).split;
    }
    const points = kept.map((index, k) => {
      const { from, to } = bounds(k);
      const meanBefore = history.mean(from, index);
      const meanAfter = history.mean(index, to);
      return {
        index,
        meanBefore,
        meanAfter,
        relativeChange: Math.expm1(meanAfter - meanBefore),
        pValue: correctedPValue(history, from, index, to, placesToSplit(from, to, settings.minSegment)),
      };
    });
    const weakest = weakestFailing(points, settings);
    if (weakest === undefined) return points;
    kept.splice(weakest, 1);
  }
}

/** The position of the point to drop: the largest failing p-value, else the smallest failing change. */
function weakestFailing(points: readonly ChangePoint[], { maxPValue, minMagnitude }: Required<ChangePointOptions>): number | undefined {
  let worstP = -1;
  for (let k = 0; k < points.length; k++) {
    if (points[k].pValue > maxPValue && (worstP < 0 || points[k].pValue > points[worstP].pValue)) worstP = k;
  }
  if (worstP >= 0) return worstP;
  const size = (point: ChangePoint) => Math.abs(point.meanAfter - point.meanBefore);
  let smallest = -1;
  for (let k = 0; k < points.length; k++) {
    if (size(points[k]) < minMagnitude && (smallest < 0 || size(points[k]) < size(points[smallest]))) smallest = k;
  }
  return smallest >= 0 ? smallest : undefined;
}

/**
 * P(|T| ≥ t) for Student's t with a whole number df ≥ 1, exactly: the finite series in cos θ,
 * θ = atan(t / √df) (Abramowitz & Stegun 26.7.3 and 26.7.4).
 */
export function studentTwoSidedP(t: number, df: number): number {
  const theta = Math.atan(Math.abs(t) / Math.sqrt(df));
  const cos2 = Math.cos(theta) ** 2;
  const sin = Math.sin(theta);
  let below: number;
  if (df % 2 === 1) {
    // Odd df: (2/π)(θ + sin θ cos θ (1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ + … up to cos^(df−3))).
    let term = 1;
    let series = df > 1 ? 1 : 0;
    for (let k = 2; k <= df - 3; k += 2) {
      term *= (k / (k + 1)) * cos2;
      series += term;
    }
    below = (2 / Math.PI) * (theta + sin * Math.cos(theta) * series);
  } else {
    // Even df: sin θ (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + … up to cos^(df−2)).
    let term = 1;
    let series = 1;
    for (let k = 1; k <= df - 3; k += 2) {
      term *= (k / (k + 1)) * cos2;
      series += term;
    }
    below = sin * series;
  }
  return Math.min(1, Math.max(0, 1 - below));
}

/**
 * The smallest change of level a gate splits its history at: half the gate's limit (a fraction),
 * as a distance in logs. A smaller move shifts the level a run is judged against by less than half
 * the limit, which the history's spread absorbs; splitting there would trade most of the history
 * for little, and a covariate the adjustment fits only roughly (service time curving with the RTT)
 * leaves steps of a few percent.
 */
export function levelChangeFloor(limit: number): number {
  return Math.log1p(limit / 2);
}
