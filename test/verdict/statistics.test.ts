import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bootstrapRatioOfMedians,
  mad,
  mannWhitneyU,
  median,
  mulberry32,
  normalUpperTail,
  quantile,
  robustCentreAndSpread,
} from '../../src/verdict/statistics.ts';

const close = (actual: number, expected: number, tolerance: number) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

describe('descriptive statistics', { timeout: 5_000 }, () => {
  test('median of odd, even, unsorted and empty samples', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    assert.equal(median([]), 0);
  });

  test('quantiles interpolate like numpy and R (type 7)', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.25), 1.75);
    assert.equal(quantile([1, 2, 3, 4], 0.975), 3.925);
    assert.equal(quantile([10, 1], 0), 1);
    assert.equal(quantile([10, 1], 1), 10);
    assert.equal(quantile([], 0.5), 0);
  });

  test('MAD and robust spread, including zero spread', () => {
    assert.equal(mad([1, 2, 3, 4, 100]), 1);
    assert.deepEqual(robustCentreAndSpread([1, 2, 3, 4, 100]), { centre: 3, spread: 1.4826 });
    assert.deepEqual(robustCentreAndSpread([5, 5, 5]), { centre: 5, spread: 0 });
    assert.deepEqual(robustCentreAndSpread([]), { centre: 0, spread: 0 });
  });
});

describe('mulberry32', { timeout: 5_000 }, () => {
  test('the same seed gives the same sequence, in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const first = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      first,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.ok(first.every((x) => x >= 0 && x < 1));
    assert.notDeepEqual(first.slice(0, 5), Array.from({ length: 5 }, mulberry32(43)));
    close(median(first), 0.5, 0.05);
  });
});

// Reference p-values: scipy.stats.mannwhitneyu (1.17) and, with ties, full enumeration of all
// rank assignments in Python.
describe('Mann–Whitney U, one-sided (candidate larger)', { timeout: 5_000 }, () => {
  test('n = m = 5 fully separated: exact p = 1/252', () => {
    const result = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    assert.deepEqual(result, { u: 25, p: 1 / 252, method: 'exact' });
  });

  test('n = m = 3 fully separated: exact p = 1/20, the smallest 3 bursts per side can reach', () => {
    assert.equal(mannWhitneyU([1, 2, 3], [4, 5, 6]).p, 0.05);
  });

  test('the reverse direction gives p = 1', () => {
    assert.equal(mannWhitneyU([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]).p, 1);
  });

  test("R's wilcox.test example (Hollander & Wolfe): W = 35, p = 0.1272", () => {
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const result = mannWhitneyU(y, x);
    assert.equal(result.u, 35);
    close(result.p, 0.1272061272061272, 1e-12);
  });

  test('exact with ties: conditional on the midranks', () => {
    // Pooled ranks 1, 2, 3.5, 3.5, 5, 6; the candidate's 14.5 is the maximum, reached by 2 of 20 subsets.
    assert.deepEqual(mannWhitneyU([1, 2, 3], [3, 4, 5]), { u: 8.5, p: 0.1, method: 'exact' });
    const tied = mannWhitneyU([10, 12, 12, 14, 15, 15, 16], [12, 15, 15, 17, 18, 18, 20, 21]);
    assert.equal(tied.u, 47);
    close(tied.p, 0.012432012432012432, 1e-12);
  });

  test('normal approximation with tie and continuity corrections beyond 20 per side', () => {
    const a = [103, 108, 103, 87, 109, 104, 95, 106, 104, 103, 100, 105, 93, 98, 95, 106, 100, 97, 92, 97, 100, 97, 113, 110, 73];
    const b = [
      87, 104, 102, 108, 108, 127, 95, 102, 126, 112, 113, 101, 90, 108, 107, 94, 99, 105, 97, 105, 107, 106, 101, 112, 115, 109, 98, 113,
      101, 115,
    ];
    const result = mannWhitneyU(a, b);
    assert.equal(result.method, 'normal');
    assert.equal(result.u, 504.5);
    close(result.p, 0.014524452944776842, 1e-8);
  });

  test('degenerate samples: all tied or empty give p = 1, never NaN', () => {
    assert.equal(mannWhitneyU([5, 5, 5], [5, 5, 5]).p, 1);
    assert.equal(mannWhitneyU(Array(25).fill(5), Array(25).fill(5)).p, 1);
    assert.deepEqual(mannWhitneyU([], [1, 2]), { u: 0, p: 1, method: 'exact' });
    assert.deepEqual(mannWhitneyU([1], []), { u: 0, p: 1, method: 'exact' });
  });

  test('the normal tail matches known quantiles', () => {
    close(normalUpperTail(1.959963985), 0.025, 1e-8);
    close(normalUpperTail(0), 0.5, 1e-7);
    close(normalUpperTail(-1.644853627), 0.95, 1e-8);
    close(normalUpperTail(6) / 9.865876450377e-10, 1, 1e-6);
  });
});

describe('bootstrap CI of the ratio of medians', { timeout: 10_000 }, () => {
  const baseline = [10, 11, 10.5, 10.2, 10.8];
  const candidate = [12, 12.5, 11.8, 12.2, 12.9];

  test('is deterministic: the same data gives the same interval', () => {
    const first = bootstrapRatioOfMedians(baseline, candidate);
    assert.deepEqual(bootstrapRatioOfMedians([...baseline], [...candidate]), first);
    assert.notDeepEqual(bootstrapRatioOfMedians(baseline, candidate, { seed: 7 }), first);
  });

  test('separated samples: the interval brackets the ratio and lies above 1', () => {
    const interval = bootstrapRatioOfMedians(baseline, candidate)!;
    close(interval.ratio, 12.2 / 10.5, 1e-12);
    assert.ok(interval.lower > 1.05 && interval.lower <= interval.ratio, `lower ${interval.lower}`);
    assert.ok(interval.upper >= interval.ratio && interval.upper < 1.3, `upper ${interval.upper}`);
  });

  test('identical samples give exactly [1, 1]; a single burst each gives its ratio', () => {
    assert.deepEqual(bootstrapRatioOfMedians([5, 5, 5], [5, 5, 5]), { ratio: 1, lower: 1, upper: 1 });
    assert.deepEqual(bootstrapRatioOfMedians([4], [5]), { ratio: 1.25, lower: 1.25, upper: 1.25 });
  });

  test('empty and zero samples stay NaN-free', () => {
    assert.equal(bootstrapRatioOfMedians([], [1]), undefined);
    assert.equal(bootstrapRatioOfMedians([1], []), undefined);
    assert.deepEqual(bootstrapRatioOfMedians([0, 0], [0, 0]), { ratio: 1, lower: 1, upper: 1 });
    const fromZero = bootstrapRatioOfMedians([0, 0], [1, 1])!;
    assert.ok(Object.values(fromZero).every(Number.isFinite));
  });
});
