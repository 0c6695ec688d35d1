// Small-sample statistics for the verdict. Pure and deterministic; never returns NaN: an empty
// sample has median 0, no evidence (p = 1) and no interval (undefined).

/** Scales the MAD so it estimates the standard deviation of normal data. */
const MAD_TO_SIGMA = 1.4826;

/** Samples of at most this many bursts per side get the exact Mann–Whitney distribution. */
const EXACT_MWU_LIMIT = 20;

function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

function medianOfSorted(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function median(values: ArrayLike<number>): number {
  return medianOfSorted(sortedCopy(values));
}

/** Quantile with linear interpolation between order statistics (Hyndman–Fan type 7, as R and numpy). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = sortedCopy(values);
  if (sorted.length === 0) return 0;
  const position = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/** Median absolute deviation from the median (unscaled). */
export function mad(values: ArrayLike<number>): number {
  const centre = median(values);
  return median(Array.from(values, (v) => Math.abs(v - centre)));
}

/** Robust centre and spread: the median and the MAD scaled to estimate a standard deviation. */
export function robustCentreAndSpread(values: ArrayLike<number>): { centre: number; spread: number } {
  return { centre: median(values), spread: MAD_TO_SIGMA * mad(values) };
}

/** Seeded PRNG (mulberry32): uniform floats in [0, 1), the same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MannWhitneyResult {
  /** U of the candidate sample: pairs (baseline, candidate) where the candidate is larger, ties counting ½. */
  u: number;
  /** One-sided p-value for "candidate tends to be larger than baseline". */
  p: number;
  method: 'exact' | 'normal';
}

/** Midranks (1-based) of the pooled sample; ties share the average of their ranks. */
function midranks(pooled: number[]): number[] {
  const order = pooled.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(pooled.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1].value === order[start].value) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k].index] = rank;
    start = end + 1;
  }
  return ranks;
}

/**
 * One-sided Mann–Whitney U test that `candidate` is stochastically larger than `baseline`.
 * Exact (conditional on the observed ties, by enumerating rank sums) when both samples have at
 * most 20 values; otherwise the normal approximation with tie and continuity corrections.
 */
export function mannWhitneyU(baseline: number[], candidate: number[]): MannWhitneyResult {
  const n = baseline.length;
  const m = candidate.length;
  if (n === 0 || m === 0) return { u: 0, p: 1, method: 'exact' };
  const ranks = midranks([...baseline, ...candidate]);
  const candidateRanks = ranks.slice(n);
  const rankSum = candidateRanks.reduce((a, b) => a + b, 0);
  const u = rankSum - (m * (m + 1)) / 2;
  if (n <= EXACT_MWU_LIMIT && m <= EXACT_MWU_LIMIT) {
    return { u, p: exactUpperTail(ranks, m, rankSum), method: 'exact' };
  }
  return { u, p: normalUpperTailOfU(ranks, n, m, u), method: 'normal' };
}

/** P(rank sum of a random m-subset ≥ observed). Midranks are multiples of ½, so doubled they are integers. */
function exactUpperTail(ranks: number[], m: number, rankSum: number): number {
  const doubled = ranks.map((r) => Math.round(2 * r));
  const total = doubled.reduce((a, b) => a + b, 0);
  // ways[j][s]: number of j-subsets of the items seen so far whose doubled ranks sum to s.
  const ways = Array.from({ length: m + 1 }, () => new Float64Array(total + 1));
  ways[0][0] = 1;
  doubled.forEach((r, seen) => {
    for (let j = Math.min(seen + 1, m); j >= 1; j--) {
      const into = ways[j];
      const from = ways[j - 1];
      for (let s = total; s >= r; s--) into[s] += from[s - r];
    }
  });
  const observed = Math.round(2 * rankSum);
  let atLeast = 0;
  let all = 0;
  ways[m].forEach((count, s) => {
    all += count;
    if (s >= observed) atLeast += count;
  });
  return Math.min(1, atLeast / all);
}

function normalUpperTailOfU(ranks: number[], n: number, m: number, u: number): number {
  const size = n + m;
  const tieSizes = new Map<number, number>();
  for (const r of ranks) tieSizes.set(r, (tieSizes.get(r) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of tieSizes.values()) tieTerm += t * t * t - t;
  const variance = ((n * m) / 12) * (size + 1 - tieTerm / (size * (size - 1)));
  if (variance <= 0) return 1;
  const z = (u - (n * m) / 2 - 0.5) / Math.sqrt(variance);
  return normalUpperTail(z);
}

/** P(Z > z) for a standard normal Z, via erfc (Numerical Recipes' erfcc, relative error < 1.2e-7). */
export function normalUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const erfcAbs =
    t *
    Math.exp(
      -a * a -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? erfcAbs : 2 - erfcAbs;
  return erfc / 2;
}

export interface RatioInterval {
  /** median(candidate) / median(baseline) of the data itself. */
  ratio: number;
  lower: number;
  upper: number;
}

export interface BootstrapOptions {
  iterations?: number;
  confidence?: number;
  seed?: number;
}

/** The smallest median a ratio divides by: zeros give a ratio of 1 (or a huge one), never NaN. */
const TINY = 1e-12;

/**
 * Percentile-bootstrap confidence interval of median(candidate) / median(baseline), resampling
 * each sample (bursts) with replacement. Seeded, so the same data always gives the same interval.
 * Undefined when either sample is empty. Values are expected to be ≥ 0 (latencies).
 */
export function bootstrapRatioOfMedians(
  baseline: number[],
  candidate: number[],
  { iterations = 2000, confidence = 0.95, seed = 0x10ad6a7e }: BootstrapOptions = {},
): RatioInterval | undefined {
  if (baseline.length === 0 || candidate.length === 0) return undefined;
  const ratioOf = (b: number, c: number) => Math.max(c, TINY) / Math.max(b, TINY);
  const random = mulberry32(seed);
  const baseScratch = new Float64Array(baseline.length);
  const candScratch = new Float64Array(candidate.length);
  const resample = (from: number[], into: Float64Array) => {
    for (let i = 0; i < into.length; i++) into[i] = from[Math.floor(random() * from.length)];
    return medianOfSorted(into.sort());
  };
  const ratios = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    ratios[i] = ratioOf(resample(baseline, baseScratch), resample(candidate, candScratch));
  }
  const tail = (1 - confidence) / 2;
  return {
    ratio: ratioOf(median(baseline), median(candidate)),
    lower: quantile(ratios, tail),
    upper: quantile(ratios, 1 - tail),
  };
}

/** The standard normal quantile: z with P(Z ≤ z) = p, by bisection on normalUpperTail (|error| < 1e-9). */
export function normalQuantile(p: number): number {
  let low = -12;
  let high = 12;
  for (let step = 0; step < 80; step++) {
    const mid = (low + high) / 2;
    if (1 - normalUpperTail(mid) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/**
 * Student's t quantile with `df` degrees of freedom: exact for 1 and 2, otherwise the Cornish–Fisher
 * expansion in 1/df (Abramowitz & Stegun 26.7.5; within 0.4 % of the tables from df 3 at p ≤ 0.99).
 * Fractional df are allowed; df < 1 counts as 1.
 */
export function studentQuantile(p: number, df: number): number {
  const v = Math.max(df, 1);
  if (v === 1) return Math.tan(Math.PI * (p - 0.5));
  if (v === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = normalQuantile(p);
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * (5 * z2 * z2 + 16 * z2 + 3)) / 96;
  const g3 = (z * (3 * z2 ** 3 + 19 * z2 * z2 + 17 * z2 - 15)) / 384;
  const g4 = (z * (79 * z2 ** 4 + 776 * z2 ** 3 + 1482 * z2 * z2 - 1920 * z2 - 945)) / 92160;
  return z + g1 / v + g2 / v ** 2 + g3 / v ** 3 + g4 / v ** 4;
}
