// The change points of a stored history (issue 24): where a figure's level moved, so a run is
// judged against the runs since. Fixed histories for each shape the gate meets, then seeded
// simulations for the two rates the defaults promise.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectionRate, falseChangeRate, logNormalNoise, uniformDrift } from '../../bench/change-point-sim.ts';
import { DEFAULT_CHANGE_POINT_OPTIONS, findChangePoints, lastSegmentStart, studentTwoSidedP } from '../../src/verdict/change-points.ts';

/** A fixed noise pattern in units of σ, so every fixed history below is the same on every run. */
const PATTERN = [0.4, -1.1, 0.9, 1.3, -0.6, 0.2, -1.4, 0.7, 1.0, -0.3, -0.9, 0.5, 1.2, -1.0, 0.1, 0.8, -0.5, -1.2, 0.6, -0.2];
/** Logs of the given levels (ms) with the pattern at σ = `sigma` on the log scale (±1.5 % by default). */
const withNoise = (levels: number[], sigma = 0.015) => levels.map((level, run) => Math.log(level) + sigma * PATTERN[run % PATTERN.length]);
const times = (level: number, runs: number): number[] => Array(runs).fill(level);
/** Each change point as [index, relative change in % to 0.1]. */
const summary = (values: number[], options = {}) =>
  findChangePoints(values, options).map((point) => [point.index, Math.round(point.relativeChange * 1000) / 10]);
const close = (actual: number, expected: number, tolerance: number) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

describe('the t test behind the change points', { timeout: 5_000 }, () => {
  test('two-sided p-values match the tables at 5 % and 1 %', () => {
    close(studentTwoSidedP(12.706, 1), 0.05, 1e-4);
    close(studentTwoSidedP(4.303, 2), 0.05, 1e-4);
    close(studentTwoSidedP(2.776, 4), 0.05, 1e-4);
    close(studentTwoSidedP(2.571, 5), 0.05, 1e-4);
    close(studentTwoSidedP(3.169, 10), 0.01, 1e-4);
    close(studentTwoSidedP(2.0, 60), 0.05, 1e-3);
    close(studentTwoSidedP(-3.169, 10), 0.01, 1e-4);
    assert.equal(studentTwoSidedP(0, 7), 1);
  });
});

describe('change points on fixed histories', { timeout: 10_000 }, () => {
  test('one step: 8 runs at 100 ms, 5 at 75 ms (±1.5 %) change at run 8 by −25 %', () => {
    const history = withNoise([...times(100, 8), ...times(75, 5)]);
    const points = findChangePoints(history);
    assert.equal(points.length, 1);
    const [point] = points;
    assert.equal(point.index, 8);
    close(point.relativeChange, -0.25, 0.01);
    close(Math.exp(point.meanBefore), 100, 1);
    close(Math.exp(point.meanAfter), 75, 1);
    assert.ok(point.pValue <= DEFAULT_CHANGE_POINT_OPTIONS.maxPValue, `p ${point.pValue}`);
    assert.equal(lastSegmentStart(history), 8);
    // The case: a build 15 % slower than the new level reads as faster than the whole
    // window's mean, and +15 % against the runs since the change.
    const slowerBuild = Math.log(75 * 1.15);
    const windowMean = history.reduce((sum, value) => sum + value, 0) / history.length;
    assert.ok(Math.expm1(slowerBuild - windowMean) < 0, `against the window: ${Math.expm1(slowerBuild - windowMean)}`);
    close(Math.expm1(slowerBuild - point.meanAfter), 0.15, 0.01);
  });

  test('two steps: 100 → 80 → 120 ms change at runs 7 and 13', () => {
    assert.deepEqual(summary(withNoise([...times(100, 7), ...times(80, 6), ...times(120, 7)])), [
      [7, -19.5],
      [13, 48.7],
    ]);
  });

  test('a level that moved and moved back is two changes, not diluted into none', () => {
    // Compared with the whole rest of the history, the six slow runs are half of it and the split
    // reads as noise; E-Divisive's shorter right side finds them.
    assert.deepEqual(summary(withNoise([...times(100, 6), ...times(120, 6), ...times(100, 6)])), [
      [6, 19.6],
      [12, -16.7],
    ]);
  });

  test('a single outlier is not a change, in the middle or as the newest or second-newest run', () => {
    assert.deepEqual(findChangePoints(withNoise([...times(100, 6), 130, ...times(100, 6)])), []);
    assert.deepEqual(findChangePoints(withNoise([...times(100, 12), 160])), []);
    assert.deepEqual(findChangePoints(withNoise([...times(100, 11), 160, 100])), []);
  });

  test('a short newest segment: 10 runs at 100 ms then 1, 2 or 3 at 75 ms', () => {
    // One run at a new level is indistinguishable from an outlier: no change. From two runs on
    // (minSegment), the change is reported, so the gate can say "the history changed 2 runs ago"
    // and judge against those runs as a cold start.
    assert.deepEqual(findChangePoints(withNoise([...times(100, 10), 75])), []);
    assert.deepEqual(summary(withNoise([...times(100, 10), ...times(75, 2)])), [[10, -25.3]]);
    const three = withNoise([...times(100, 10), ...times(75, 3)]);
    assert.deepEqual(summary(three), [[10, -24.8]]);
    assert.equal(lastSegmentStart(three), 10);
    assert.equal(three.length - lastSegmentStart(three), 3);
    // With a minimum of 3 runs a segment, two runs after the change are not enough yet.
    assert.deepEqual(findChangePoints(withNoise([...times(100, 10), ...times(75, 2)]), { minSegment: 3 }), []);
    assert.deepEqual(summary(three, { minSegment: 3 }), [[10, -24.8]]);
  });

  test("the issue's real app: p50 68.0, 71.9, 67.5 then 52.5, 52.0, 51.4 ms changed at the fourth run", () => {
    const runs = [68.0, 71.9, 67.5, 52.5, 52.0, 51.4].map(Math.log);
    const [point, ...more] = findChangePoints(runs);
    assert.deepEqual(more, []);
    assert.equal(point.index, 3);
    close(point.relativeChange, -0.248, 0.001);
    close(point.pValue, 5.0e-4, 0.1e-4);
    // Seen from the fifth run on (two runs at the new level), not at the fourth (one).
    assert.deepEqual(findChangePoints(runs.slice(0, 4)), []);
    assert.equal(lastSegmentStart(runs.slice(0, 5)), 3);
  });

  test('a slow drift is cut into steps: the newest segment holds the recent level, a very slow one is left whole', () => {
    const drift = (perRun: number) => Array.from({ length: 20 }, (_, run) => Math.log(100) + perRun * run + 0.015 * PATTERN[run]);
    // +1 % a run for 20 runs: judged against the last segment, a run at the current level reads
    // under +5 %; against the whole window it would read +9 % or more.
    const rising = drift(0.01);
    const points = findChangePoints(rising);
    assert.deepEqual(
      points.map((point) => point.index),
      [11],
    );
    const current = Math.log(100) + 0.01 * 19;
    const windowMean = rising.reduce((sum, value) => sum + value, 0) / rising.length;
    assert.ok(Math.expm1(current - points[0].meanAfter) < 0.05, `against the segment: ${Math.expm1(current - points[0].meanAfter)}`);
    assert.ok(Math.expm1(current - windowMean) > 0.09, `against the window: ${Math.expm1(current - windowMean)}`);
    // +2 % a run: two steps.
    assert.deepEqual(
      findChangePoints(drift(0.02)).map((point) => point.index),
      [7, 14],
    );
    // +0.2 % a run (4 % in 20 runs, within the noise of any few runs): no change.
    assert.deepEqual(findChangePoints(drift(0.002)), []);
  });

  test('a significant change smaller than minMagnitude is not a change unless asked for', () => {
    // +1.5 % after 10 runs with 0.3 % noise: certain, and too small to shorten the history for.
    const small = withNoise([...times(100, 10), ...times(101.5, 10)], 0.003);
    assert.deepEqual(findChangePoints(small), []);
    assert.deepEqual(summary(small, { minMagnitude: 0 }), [[10, 1.4]]);
  });

  test('identical runs on each side: a step is certain, a flat history has none', () => {
    const [point] = findChangePoints([...times(100, 5), ...times(80, 4)].map(Math.log));
    assert.equal(point.index, 5);
    assert.equal(point.pValue, 0);
    assert.deepEqual(findChangePoints(times(100, 12).map(Math.log)), []);
  });

  test('histories too short to split have no change point', () => {
    for (const length of [0, 1, 2, 3]) {
      assert.deepEqual(findChangePoints(withNoise([...times(100, Math.ceil(length / 2)), ...times(50, Math.floor(length / 2))])), []);
      assert.equal(lastSegmentStart(withNoise(times(100, length))), 0);
    }
  });

  test('deterministic: the same history gives the same change points, every time', () => {
    const history = withNoise([...times(100, 7), ...times(80, 6), ...times(120, 7)]);
    const first = findChangePoints(history);
    for (let repeat = 0; repeat < 3; repeat++) assert.deepEqual(findChangePoints([...history]), first);
  });

  test('bad input is refused, naming it', () => {
    assert.throws(() => findChangePoints([1, Number.NaN, 2]), /value 1 is NaN/);
    assert.throws(() => findChangePoints([1, 2], { minSegment: 1 }), /minSegment must be a whole number ≥ 2, got 1/);
    assert.throws(() => findChangePoints([1, 2], { maxPValue: 0 }), /maxPValue must be in \(0, 1\), got 0/);
    assert.throws(() => findChangePoints([1, 2], { minMagnitude: -0.1 }), /minMagnitude must be ≥ 0, got -0.1/);
  });
});

describe('change points on seeded histories of 10–40 runs', { timeout: 60_000 }, () => {
  const HISTORIES = 2000;
  const runs = [10, 40] as const;

  test('no change: a change is found in at most 1 % of histories (profile R and profile U noise)', () => {
    for (const [noise, seed] of [
      [logNormalNoise(0.013), 24],
      [uniformDrift(0.05), 25],
    ] as const) {
      const rate = falseChangeRate({ seed, histories: HISTORIES, runs, noise });
      console.log(`no change, ${noise.name}: a change found in ${(rate * 100).toFixed(2)} % of ${HISTORIES} histories`);
      assert.ok(rate <= 0.01, `${noise.name}: ${rate}`);
    }
  });

  test('one shift of 10–30 % with 5 or more runs after it: found within one run in at least 95 % of histories', () => {
    for (const [noise, seed] of [
      [logNormalNoise(0.013), 26],
      [uniformDrift(0.05), 27],
    ] as const) {
      const rate = detectionRate({ seed, histories: HISTORIES, runs, noise, shift: [0.1, 0.3], runsAfter: [5, 38] });
      console.log(`one shift of ±10–30 %, ${noise.name}: found within one run in ${(rate * 100).toFixed(2)} % of ${HISTORIES} histories`);
      assert.ok(rate >= 0.95, `${noise.name}: ${rate}`);
    }
  });
});
