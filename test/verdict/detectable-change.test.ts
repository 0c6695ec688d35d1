// The minimum detectable change must keep its promise: a slowdown of that size is flagged by the
// stored rule in 95 % of runs. Checked by simulation on seeded lognormal histories.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeAgainstHistory, minDetectableChange } from '../../src/verdict/latency-rules.ts';
import { mulberry32 } from '../../src/verdict/statistics.ts';

const LIMIT = 0.1;

/** The share of runs flagged when the slowdown is `share` of the stated minimum detectable change. */
function detectionAtStatedChange(spread: number, runs: number, share: number, seed: number): { rate: number; meanStated: number } {
  const trials = 2000;
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let caught = 0;
  let stated = 0;
  for (let trial = 0; trial < trials; trial += 1) {
    const history = Array.from({ length: runs }, () => 100 * Math.exp(spread * normal()));
    const detectable = minDetectableChange(history, LIMIT);
    stated += detectable;
    const current = 100 * (1 + share * detectable) * Math.exp(spread * normal());
    if (judgeAgainstHistory('p50', history, current, LIMIT).status === 'regression') caught += 1;
  }
  return { rate: caught / trials, meanStated: stated / trials };
}

describe('minimum detectable change', { timeout: 30_000 }, () => {
  test('on fixed histories: the 3 % spread floor, a cold start, a wider limit', () => {
    assert.equal(minDetectableChange(Array(20).fill(100), LIMIT).toFixed(3), '0.177');
    assert.equal(minDetectableChange(Array(3).fill(100), LIMIT).toFixed(3), '0.230');
    assert.equal(minDetectableChange(Array(20).fill(100), 0.3).toFixed(3), '0.391');
    const noisy = [90, 110, 95, 105, 100, 92, 108, 97, 103, 100];
    assert.ok(minDetectableChange(noisy, LIMIT) > minDetectableChange(Array(10).fill(100), LIMIT));
  });

  for (const [spread, runs] of [
    [0.03, 20],
    [0.05, 5],
    [0.05, 20],
    [0.1, 20],
  ] as const) {
    test(`a slowdown of the stated size is caught in ≥ 95 % of runs (spread ${spread * 100} %, ${runs} runs)`, () => {
      const { rate, meanStated } = detectionAtStatedChange(spread, runs, 1, 11);
      assert.ok(rate >= 0.95, `caught in ${(rate * 100).toFixed(1)} % at a stated +${(meanStated * 100).toFixed(1)} %`);
      // Not a figure so large that it promises nothing: at 70 % of it the rule misses more than 5 %.
      const short = detectionAtStatedChange(spread, runs, 0.7, 12);
      assert.ok(short.rate < 0.95, `caught in ${(short.rate * 100).toFixed(1)} % at 70 % of the stated change`);
    });
  }
});
