import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { behaviourFor, SERVICE, type Case, type Profile } from '../../bench/power-cases.ts';
import { judgeGoals, loadSecondsPerRun, markdownTable, share, tally, type RunRecord } from '../../bench/power-tally.ts';
import type { LoadSettings } from '../../src/config/settings.ts';

const stored: Profile = { name: 'stored, defaults', mode: 'stored', inputs: {}, purpose: '' };
const cases: Case[] = [
  { profile: stored, slowdown: { kind: 'all', size: 0 }, runs: 20 },
  { profile: stored, slowdown: { kind: 'all', size: 0.1 }, runs: 20 },
  { profile: stored, slowdown: { kind: 'tail', size: 0.15 }, runs: 20 },
];

function records(kind: 'all' | 'tail', size: number, verdicts: RunRecord['verdict'][]): RunRecord[] {
  return verdicts.map((verdict, i) => ({
    profile: stored.name,
    mode: 'stored',
    kind,
    size,
    lane: 0,
    drift: 1,
    verdict,
    confirmed: verdict !== 'pass',
    p50Change: size + i * 0.001,
    p95Change: size,
    seconds: 5,
  }));
}

describe('power benchmark tally', { timeout: 10_000 }, () => {
  test('shares read as counts and percentages', () => {
    assert.equal(share(19, 20), '19/20 = 95.0%');
    assert.equal(share(0, 20), '0/20 = 0%');
    assert.equal(share(7, 7), '7/7 = 100%');
  });

  test('goals are met only with ≥ 95% detection and ≤ 1% false alarms, and say when n is too small', () => {
    const all = [
      ...records('all', 0, Array(20).fill('pass')),
      ...records('all', 0.1, [...Array(19).fill('regression'), 'inconclusive']),
      ...records('tail', 0.15, [...Array(10).fill('regression'), ...Array(10).fill('pass')]),
    ];
    const tallies = tally(cases, all);
    assert.deepEqual(
      tallies.map((t) => [t.runs, t.regression, t.inconclusive, t.pass]),
      [
        [20, 0, 0, 20],
        [20, 19, 1, 0],
        [20, 10, 0, 10],
      ],
    );
    const goals = judgeGoals(tallies);
    assert.equal(goals.length, 2);
    assert.equal(goals[0].met, true);
    assert.equal(goals[0].detection, '+10% all requests (p50 and p95): 19/20 = 95.0%');
    assert.equal(goals[0].falseAlarms, '0/20 = 0%');
    assert.match(goals[0].note, /20 runs cannot show ≤ 1% false alarms \(95% upper bound 14%\)/);
    assert.equal(goals[1].met, false);
    assert.match(
      markdownTable(tallies),
      /\| stored, defaults \| \+15% tail only \(p95\) \| 10\/20 = 50\.0% \(detected\) \| 0 \| 10 \| 0 \| 10 \|/,
    );
  });

  test('one false alarm fails the goal', () => {
    const all = [...records('all', 0, ['regression', ...Array(19).fill('pass')]), ...records('all', 0.1, Array(20).fill('regression'))];
    const [goal] = judgeGoals(tally(cases.slice(0, 2), all));
    assert.equal(goal.met, false);
    assert.equal(goal.falseAlarms, '1/20 = 5.0%');
  });

  test('a tail-only slowdown grows the tail by the share of p95, and leaves the body alone', () => {
    const base = behaviourFor(1);
    const tail = behaviourFor(1, { kind: 'tail', size: 0.1 });
    assert.equal(tail.delayMs, base.delayMs);
    assert.equal(tail.jitterMs, base.jitterMs);
    // Model p95 is the tail's middle: 20 + 20 + 5 = 45 ms, so +10% adds 4.5 ms.
    assert.equal((tail.tailDelayMs ?? 0) - SERVICE.tailDelayMs, 4.5);
    const slower = behaviourFor(1.05, { kind: 'all', size: 0.2 });
    assert.ok(Math.abs(slower.delayMs - SERVICE.delayMs * 1.05 * 1.2) < 1e-9);
  });

  test('load per run counts both targets in A/B and doubles when it confirms', () => {
    const load = { bursts: 5, durationMs: 10_000, warmupMs: 5_000 } as LoadSettings;
    assert.equal(loadSecondsPerRun(load, 'stored', false), 55);
    assert.equal(loadSecondsPerRun(load, 'ab', true), 210);
  });
});
