import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { historySource } from '../../src/verdict/decide.ts';
import { needsConfirmation, type Comparison, type Decision } from '../../src/verdict/decision.ts';
import { abBursts, burst, bursts, type BurstsInput, decideOn, gate, history, pastRun } from './bursts.ts';

const row = (decision: Decision, metric: Comparison['metric']) => decision.comparisons.find((c) => c.metric === metric)!;

/** Every number anywhere in the decision is finite. */
function assertNoNaN(decision: Decision) {
  JSON.stringify(decision, (key, value) => {
    if (typeof value === 'number') assert.ok(Number.isFinite(value), `${key} is ${value}`);
    return value;
  });
  assert.doesNotMatch(JSON.stringify(decision), /NaN|Infinity|undefined/);
}

// 100 × 1.01^k for k = −5 … 5 and 0: the centre (geometric mean) is exactly 100, the spread (SD
// of the logs) √10 × ln 1.01 = 3.1 %, 11 degrees of freedom.
const TWELVE_RUNS = history([-5, -4, -3, -2, -1, 0, 0, 1, 2, 3, 4, 5].map((k) => 100 * 1.01 ** k));
const historyInput = (current: ReturnType<typeof bursts>, runs = TWELVE_RUNS, extra: Partial<BurstsInput> = {}): BurstsInput => ({
  bursts: current,
  baseline: historySource(runs),
  gate,
  ...extra,
});

describe('stored-baseline mode', { timeout: 10_000 }, () => {
  test("p95 +18.2% above a 12-run history's threshold is a regression, in words", () => {
    const decision = decideOn(historyInput(bursts(20, 118.2)));
    assert.equal(decision.verdict, 'regression');
    assert.equal(decision.mode, 'history');
    assert.equal(decision.headline, 'p95 +18.2% over baseline');
    const p95 = row(decision, 'p95');
    assert.equal(p95.status, 'regression');
    assert.equal(p95.limit, '+15%');
    assert.equal(p95.reasoning, 'p95 +18.2% (limit +15%), above the +10.7% threshold (12 runs, run-to-run spread 3.2%)');
    assert.ok(Math.abs(p95.change! - 0.182) < 1e-6);
    assert.ok(Math.abs(p95.baseline! - 100) < 1e-4);
    assert.equal(p95.current, 118.2);
    assert.equal(row(decision, 'p50').status, 'ok');
    assert.equal(row(decision, 'p50').reasoning, 'p50 +0.0% (limit +10%), under the +10.7% threshold (12 runs, run-to-run spread 3.2%)');
    assert.equal(row(decision, 'p99').status, 'info');
    // A 3.2 % spread over 12 runs is too much for 10 %: the false-alarm bound sets the threshold.
    assert.equal(decision.minDetectableChange?.toFixed(3), '0.174');
    assert.deepEqual(decision.warnings, [
      'With this history (12 runs), loadgate catches a p50 slowdown of +17.4% or more in 95% of runs, above the +10% limit: ' +
        'a slowdown between the two often passes. A/B mode (`baseline-url`) measures both builds side by side and catches less; ' +
        'a quieter host, longer bursts or more bursts narrow the history.',
      'With this history (12 runs), loadgate catches a p95 slowdown of +17.4% or more in 95% of runs, above the +15% limit: ' +
        'a slowdown between the two often passes. A/B mode (`baseline-url`) measures both builds side by side and catches less; ' +
        'a quieter host, longer bursts or more bursts narrow the history.',
    ]);
    assert.ok(decision.notes.includes('With this history (12 runs), loadgate catches a p50 slowdown of +17.4% or more in 95% of runs.'));
    assert.equal(needsConfirmation(decision), true);
  });

  test("over the percent limit but under a noisy history's threshold: inconclusive, with a warning saying what to do", () => {
    const noisy = history([70, 80, 90, 100, 110, 120, 130, 75, 85, 95, 105, 125]);
    const decision = decideOn(historyInput(bursts(20, 120), noisy));
    assert.equal(decision.verdict, 'inconclusive');
    const p95 = row(decision, 'p95');
    assert.equal(p95.status, 'inconclusive');
    assert.equal(
      p95.reasoning,
      "p95 +23.8% (limit +15%), but under the +92.5% threshold this history's noise needs (12 runs, run-to-run spread 22.5%)",
    );
    // The fixture's p50 history is as noisy as its p95 one: one warning each.
    assert.equal(decision.warnings.length, 2);
    assert.match(
      decision.warnings[1]!,
      /^With this history \(12 runs\), loadgate catches a p95 slowdown of \+181\.1% or more in 95% of runs/,
    );
    assert.match(decision.warnings[1]!, /A\/B mode \(`baseline-url`\) measures both builds side by side/);
    assert.equal(needsConfirmation(decision), true);
  });

  test('within the limits: pass, with both changes in the headline', () => {
    const decision = decideOn(historyInput(bursts(20.2, 102)));
    assert.equal(decision.verdict, 'pass');
    assert.equal(decision.headline, 'p50 +1.0%, p95 +2.0% vs baseline (12 runs)');
    assert.equal(needsConfirmation(decision), false);
    assert.match(decision.notes[0]!, /^Baseline: the last 12 healthy runs \(2025-01-01T00:00:00.000Z to 2025-01-12T00:00:00.000Z\)\.$/);
  });

  test("an improvement past the history's noise is reported, and passes", () => {
    const decision = decideOn(historyInput(bursts(20, 75)));
    assert.equal(decision.verdict, 'pass');
    const p95 = row(decision, 'p95');
    assert.equal(p95.status, 'improved');
    assert.equal(p95.reasoning, 'p95 -25.0%, faster than baseline; below -9.7% (12 runs, run-to-run spread 3.2%)');
    assert.equal(decision.headline, 'p50 +0.0%, p95 -25.0% (improved) vs baseline (12 runs)');
  });

  test('a slowdown under 1 ms is never a regression, whatever its percentage', () => {
    const fast = history([2, 2, 2, 2, 2, 2]);
    const decision = decideOn(historyInput(bursts(0.4, 2.8), fast));
    assert.equal(decision.verdict, 'pass');
    assert.equal(row(decision, 'p95').reasoning, 'p95 +40.0% (limit +15%), but only +0.800 ms, under the 1.00 ms minimum change');
  });

  test('zero spread: identical past runs still give the 1% minimum spread, and a threshold under the limit', () => {
    const flat = history(Array(12).fill(100));
    // p95: ln 1.15 − t(95 %, 11 df) × ln 1.01 × √(13/12) = ln 1.129: a +15 % slowdown is caught in 95 % of runs.
    const within = decideOn(historyInput(bursts(20, 112), flat));
    assert.equal(within.verdict, 'pass');
    assert.equal(within.minDetectableChange?.toFixed(3), '0.100');
    const under = decideOn(historyInput(bursts(20, 114), flat));
    assert.equal(under.verdict, 'regression');
    assert.equal(under.headline, 'p95 +14.0% over baseline, above the +12.9% threshold');
    const over = decideOn(historyInput(bursts(20, 116), flat));
    assert.equal(row(over, 'p95').reasoning, 'p95 +16.0% (limit +15%), above the +12.9% threshold (12 runs, run-to-run spread 1.0%)');
    assert.equal(over.headline, 'p95 +16.0% over baseline');
    assertNoNaN(over);
  });

  test('cold start: fewer than 5 runs, percent limit only', () => {
    const three = history([100, 104, 96]);
    const decision = decideOn(historyInput(bursts(22.4, 100), three));
    assert.equal(decision.mode, 'cold-start');
    assert.equal(decision.verdict, 'regression');
    assert.equal(row(decision, 'p50').reasoning, 'p50 +12.0% (limit +10%); cold start: percent limit only (3 runs in history)');
    assert.match(decision.notes.join('\n'), /Cold start: the history has 3 runs; its spread needs 5, so only the percent limits apply\./);
    const pass = decideOn(historyInput(bursts(21, 100), three));
    assert.equal(pass.verdict, 'pass');
    assert.equal(pass.headline, 'p50 +5.0%, p95 +0.0% vs baseline (cold start, 3 runs)');
  });

  test('one past run is enough for a cold-start comparison, and stays NaN-free', () => {
    const decision = decideOn(historyInput(bursts(20, 100), history([100])));
    assert.equal(decision.mode, 'cold-start');
    assert.equal(decision.verdict, 'pass');
    assertNoNaN(decision);
  });

  test('no history: pass with a notice; the p95 budget and error limit still apply', () => {
    const decision = decideOn(historyInput(bursts(20, 100), []));
    assert.equal(decision.mode, 'no-history');
    assert.equal(decision.verdict, 'pass');
    assert.equal(decision.headline, 'no baseline yet: p50 20.0 ms, p95 100 ms');
    assert.match(decision.notes.join('\n'), /No baseline yet: this run was measured and reported, not compared\./);
    assert.equal(row(decision, 'p95').status, 'info');
    assertNoNaN(decision);

    const budgeted = decideOn(historyInput(bursts(20, 300), [], { gate: { ...gate, p95BudgetMs: 250 } }));
    assert.equal(budgeted.verdict, 'regression');
    assert.equal(budgeted.headline, 'p95 300 ms over the 250 ms budget');
    assert.equal(row(budgeted, 'p95').limit, '≤ 250 ms');
    assert.equal(row(budgeted, 'p95').reasoning, 'p95 300 ms, no baseline yet; 300 ms over the 250 ms budget');
  });

  test('the p95 budget fails a run the history would pass', () => {
    const decision = decideOn(historyInput(bursts(20, 102), TWELVE_RUNS, { gate: { ...gate, p95BudgetMs: 90 } }));
    assert.equal(decision.verdict, 'regression');
    const p95 = row(decision, 'p95');
    assert.equal(p95.limit, '+15%, ≤ 90.0 ms');
    assert.equal(
      p95.reasoning,
      'p95 +2.0% (limit +15%), under the +10.7% threshold (12 runs, run-to-run spread 3.2%); 102 ms over the 90.0 ms budget',
    );
  });

  test('an error rate over the limit is a regression, counted over all bursts', () => {
    const failing = bursts(20, 100).map((b) => ({ ...b, ok: 9_688, non2xx: 200, errors: 100, timeouts: 12, errorRate: 0.0312 }));
    const decision = decideOn(historyInput(failing));
    assert.equal(decision.verdict, 'regression');
    assert.equal(decision.headline, 'error rate 3.12% over the 1% limit');
    assert.equal(row(decision, 'errorRate').reasoning, '1,560 of 50,000 requests failed (3.12%, limit 1%)');
  });

  test('only the last 20 healthy runs count', () => {
    const old = Array.from({ length: 10 }, (_, i) => pastRun(10, 50, i));
    const recent = Array.from({ length: 20 }, (_, i) => pastRun(20, 100, 10 + i));
    const unhealthy = pastRun(40, 400, 30, false);
    const decision = decideOn(historyInput(bursts(20, 100), [...old, ...recent, unhealthy]));
    assert.equal(decision.verdict, 'pass');
    assert.ok(Math.abs(row(decision, 'p95').baseline! - 100) < 1e-9);
    assert.match(decision.notes.join('\n'), /1 run in the history left out as unhealthy/);
    assert.match(decision.headline, /\(20 runs\)$/);
  });

  test('bursts without responses: an error verdict, no NaN', () => {
    const empty = bursts(0, 0).map((b) => ({ ...b, p99: 0, requestsPerSec: 0, ok: 0 }));
    const decision = decideOn(historyInput(empty));
    assert.equal(decision.verdict, 'error');
    assert.equal(decision.headline, 'no 2xx responses were measured: nothing to compare');
    assert.equal(row(decision, 'p50').reasoning, 'no 2xx responses were measured');
    assertNoNaN(decision);
    const noBursts = decideOn(historyInput([]));
    assert.equal(noBursts.verdict, 'error');
    assert.equal(noBursts.headline, 'no load bursts were measured');
  });

  test('past runs with zero figures do not poison the logs', () => {
    const zeros = [...TWELVE_RUNS, pastRun(0, 0, 12)];
    assertNoNaN(decideOn(historyInput(bursts(20, 100), zeros)));
  });

  test('the same input gives the same decision', () => {
    assert.deepEqual(decideOn(historyInput(bursts(20, 118.2))), decideOn(historyInput(bursts(20, 118.2))));
  });
});

describe('environment, crashes and confirmation', { timeout: 10_000 }, () => {
  test('host trouble turns a would-be regression into inconclusive, with the reason', () => {
    const decision = decideOn(historyInput(bursts(20, 118.2), TWELVE_RUNS, { environmentIssues: ['CPU steal 12%'] }));
    assert.equal(decision.verdict, 'inconclusive');
    assert.equal(decision.headline, 'inconclusive: p95 +18.2% over baseline, but measured under CPU steal 12%');
    assert.equal(row(decision, 'p95').status, 'inconclusive');
    assert.match(row(decision, 'p95').reasoning, /; not trusted, measured under CPU steal 12%$/);
  });

  test('host trouble on a passing run leaves it passing, with a warning', () => {
    const decision = decideOn(historyInput(bursts(20, 100), TWELVE_RUNS, { environmentIssues: ['load generator saturated'] }));
    assert.equal(decision.verdict, 'pass');
    assert.equal(decision.warnings.at(-1), 'Measured under load generator saturated.');
  });

  test('a crash forces a regression, needs no confirmation, even with host trouble', () => {
    const decision = decideOn(
      historyInput(bursts(20, 100), TWELVE_RUNS, {
        crashes: ['the kernel killed gunicorn (pid 812)'],
        environmentIssues: ['CPU steal 12%'],
      }),
    );
    assert.equal(decision.verdict, 'regression');
    assert.equal(decision.headline, 'target crashed under load: the kernel killed gunicorn (pid 812)');
    assert.equal(decision.crashed, true);
    assert.equal(needsConfirmation(decision), false);
  });

  test('a confirmed decision says so and asks for no more bursts', () => {
    const all = [...bursts(20, 118.2), ...bursts(20, 118.2)].map((b, index) => ({ ...b, index }));
    const decision = decideOn(
      historyInput(all, TWELVE_RUNS, { confirmation: { firstVerdict: 'regression', firstBursts: 5, allBursts: all.length } }),
    );
    assert.equal(decision.verdict, 'regression');
    assert.equal(decision.confirmed, true);
    assert.equal(needsConfirmation(decision), false);
    assert.match(decision.notes.join('\n'), /Confirmed: the first 5 bursts gave regression; this verdict uses all 10\./);
  });

  test('baseline-store none: measured, not compared, passes', () => {
    const decision = decideOn({ bursts: bursts(20, 100), baseline: { kind: 'none' }, gate });
    assert.equal(decision.mode, 'none');
    assert.equal(decision.verdict, 'pass');
    assert.equal(decision.headline, 'p50 20.0 ms, p95 100 ms (not compared)');
    assert.equal(row(decision, 'p50').baseline, undefined);
  });
});

describe('A/B mode', { timeout: 20_000 }, () => {
  const base: Array<[number, number]> = [
    [10, 20],
    [10.2, 20.5],
    [9.9, 19.8],
    [10.1, 20.3],
    [10, 20.1],
  ];
  const scaled = (factor: number) => base.map(([p50, p95]): [number, number] => [p50 * factor, p95 * factor]);
  const ab = (candidate: Array<[number, number]>, baseline = base) =>
    decideOn({ bursts: abBursts(baseline, candidate), baseline: { kind: 'ab' }, gate });

  test('a clear +20% is a regression backed by the CI and the rank test', () => {
    const decision = ab(scaled(1.2));
    assert.equal(decision.mode, 'ab');
    assert.equal(decision.verdict, 'regression');
    assert.equal(decision.headline, 'p50 +20.0% over baseline; p95 +20.0% over baseline');
    const p95 = row(decision, 'p95');
    assert.match(
      p95.reasoning,
      /^p95 \+20\.0% \(limit \+15%\), 95% CI \+1\d\.\d% to \+2\d\.\d% excludes no change \(Mann–Whitney p = 0\.004, 5 vs 5 bursts\)$/,
    );
    assert.ok(Math.abs(p95.baseline! - 20.1) < 1e-9);
  });

  test('the same +2% everywhere passes: the CI stays under the limit', () => {
    const decision = ab(scaled(1.02));
    assert.equal(decision.verdict, 'pass');
    assert.equal(decision.headline, 'p50 +2.0%, p95 +2.0% vs baseline (5 vs 5 bursts)');
    assert.match(
      row(decision, 'p50').reasoning,
      /95% CI \+\d\.\d% to \+\d\.\d% stays under the limit \(Mann–Whitney p = 0\.028, 5 vs 5 bursts\)$/,
    );
  });

  test('overlapping bursts: inconclusive, with a noise warning', () => {
    const candidate: Array<[number, number]> = [
      [9.5, 19],
      [12, 25],
      [10.5, 21],
      [13, 27],
      [11.5, 22],
    ];
    const decision = ab(candidate);
    assert.equal(decision.verdict, 'inconclusive');
    assert.match(
      row(decision, 'p50').reasoning,
      /^p50 \+15\.0% \(limit \+10%\), 95% CI -\d\.\d% to \+\d\d\.\d% includes no change \(Mann–Whitney p = 0\.067, 5 vs 5 bursts\)$/,
    );
    assert.ok(decision.warnings.some((w) => /^The p50 bursts are too noisy for the \+10% limit/.test(w)));
  });

  test('a faster candidate is reported as improved', () => {
    const decision = ab(scaled(0.7));
    assert.equal(decision.verdict, 'pass');
    assert.equal(row(decision, 'p50').status, 'improved');
  });

  test('three bursts per side can never fail the check, and the report says so', () => {
    const decision = ab(scaled(1.5).slice(0, 3), base.slice(0, 3));
    assert.equal(decision.verdict, 'inconclusive');
    assert.match(
      decision.warnings[0]!,
      /^With 3 baseline and 3 candidate bursts the rank test cannot reach p < 0\.05, so A\/B mode cannot fail the check: use at least 4 bursts\.$/,
    );
  });

  test('a baseline-url that answered nothing is an error, not a pass', () => {
    const bursts = abBursts(base, scaled(1)).map((b) => (b.target === 'baseline' ? { ...b, ok: 0, non2xx: 10_000, errorRate: 1 } : b));
    const decision = decideOn({ bursts, baseline: { kind: 'ab' }, gate });
    assert.equal(decision.verdict, 'error');
    assert.equal(decision.headline, 'the baseline-url gave no 2xx responses, so there is nothing to compare with');
    assertNoNaN(decision);
  });

  test('the same A/B data gives the same decision', () => {
    const candidate: Array<[number, number]> = [
      [9.5, 19],
      [12, 25],
      [10.5, 21],
      [13, 27],
      [11.5, 22],
    ];
    assert.deepEqual(ab(candidate), ab(candidate));
  });
});

test('a single burst of each kind is handled without NaN', { timeout: 5_000 }, () => {
  assertNoNaN(decideOn({ bursts: [burst(10, 20, { target: 'baseline' }), burst(10, 20)], baseline: { kind: 'ab' }, gate }));
});
