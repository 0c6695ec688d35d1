// The stored rule must keep both promises it prints: unchanged code is flagged in at most 1 % of
// runs, and a slowdown of the stated minimum detectable size in 95 %. Checked by simulation on
// seeded lognormal histories, and on fixed data.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeAgainstHistory, storedRule } from '../../src/verdict/latency-rules.ts';
import { mulberry32 } from '../../src/verdict/statistics.ts';

const LIMIT = 0.1;

/** The figure the p50 judgement states for a history (run figures in ms); undefined at a cold start. */
const minDetectableChange = (history: number[], limit: number) => judgeAgainstHistory('p50', history, 100, limit).minDetectableChange;
const TRIALS = 4000;

/** The share of runs flagged when the code is slowed by `slowdown` (a fraction, or a function of the stated figure). */
function flaggedShare(
  spread: number,
  runs: number,
  slowdown: (stated: number) => number,
  seed: number,
): { rate: number; meanStated: number } {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let flagged = 0;
  let stated = 0;
  for (let trial = 0; trial < TRIALS; trial += 1) {
    const history = Array.from({ length: runs }, () => 100 * Math.exp(spread * normal()));
    const detectable = minDetectableChange(history, LIMIT)!;
    stated += detectable;
    const current = 100 * (1 + slowdown(detectable)) * Math.exp(spread * normal());
    if (judgeAgainstHistory('p50', history, current, LIMIT).status === 'regression') flagged += 1;
  }
  return { rate: flagged / TRIALS, meanStated: stated / TRIALS };
}

describe('the stored rule and its minimum detectable change', { timeout: 60_000 }, () => {
  test('on fixed histories: the 1 % spread floor, a cold start, a wider limit, a noisy history', () => {
    // 20 identical runs: the floor's spread is quiet enough to catch the limit itself.
    const flat = storedRule(Array(20).fill(Math.log(100)), LIMIT);
    assert.equal(flat.df, 19);
    assert.equal(Math.expm1(flat.threshold).toFixed(4), '0.0808');
    assert.equal(minDetectableChange(Array(20).fill(100), LIMIT)!.toFixed(4), '0.1000');
    assert.equal(minDetectableChange(Array(3).fill(100), LIMIT), undefined);
    assert.equal(minDetectableChange(Array(20).fill(100), 0.3)!.toFixed(4), '0.3000');
    // ±10 % around 100 over 10 runs: the false-alarm bound sets the threshold, above the limit.
    const noisy = [90, 110, 95, 105, 100, 92, 108, 97, 103, 100];
    const rule = storedRule(noisy.map(Math.log), LIMIT);
    assert.ok(Math.expm1(rule.threshold) > LIMIT, `threshold ${rule.threshold}`);
    assert.equal(minDetectableChange(noisy, LIMIT)!.toFixed(3), '0.426');
  });

  test('one disturbed run does not widen the spread', () => {
    const quiet = [100, 101, 99, 100.5, 99.5, 100, 101, 99, 100, 100.2];
    const disturbed = [...quiet.slice(0, 9), 160];
    assert.ok(
      Math.abs(storedRule(disturbed.map(Math.log), LIMIT).spread - storedRule(quiet.slice(0, 9).map(Math.log), LIMIT).spread) < 1e-3,
    );
  });

  for (const [spread, runs] of [
    [0.01, 20],
    [0.02, 20],
    [0.03, 10],
    [0.05, 5],
    [0.05, 20],
    [0.1, 20],
  ] as const) {
    test(`spread ${spread * 100} %, ${runs} runs: ≤ 1 % false alarms, the stated slowdown caught in ≥ 95 %`, () => {
      const unchanged = flaggedShare(spread, runs, () => 0, 10);
      assert.ok(unchanged.rate <= 0.009, `unchanged code flagged in ${(unchanged.rate * 100).toFixed(2)} %`);
      const { rate, meanStated } = flaggedShare(spread, runs, (stated) => stated, 11);
      assert.ok(rate >= 0.94, `caught in ${(rate * 100).toFixed(1)} % at a stated +${(meanStated * 100).toFixed(1)} %`);
      // Not a figure so large that it promises nothing: at 70 % of it the rule misses more than 5 %.
      const short = flaggedShare(spread, runs, (stated) => 0.7 * stated, 12);
      assert.ok(short.rate < 0.93, `caught in ${(short.rate * 100).toFixed(1)} % at 70 % of the stated change`);
    });
  }

  test('a quiet history catches the limit itself: +10 % with 1.5 % spread over 20 runs in ≥ 95 %', () => {
    const { rate, meanStated } = flaggedShare(0.015, 20, () => LIMIT, 13);
    assert.ok(meanStated < LIMIT + 0.001, `stated +${(meanStated * 100).toFixed(1)} %`);
    assert.ok(rate >= 0.94, `caught in ${(rate * 100).toFixed(1)} %`);
  });
});
