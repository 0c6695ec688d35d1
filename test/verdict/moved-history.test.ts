// A stored history whose level moved (issue 24): the decision is made against the runs since the
// last change point, the note names it, and a history that did not move is judged as before.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HistoryRun } from '../../src/baseline/history.ts';
import { historySource } from '../../src/verdict/decide.ts';
import type { Decision } from '../../src/verdict/decision.ts';
import { bursts, decideOn, gate, pastRun } from './bursts.ts';

/** ±1 % about the level, repeating: −1 %, 0, +1 %. */
const jitter = (i: number) => 1 + ((i % 3) - 1) / 100;

/** `before` runs at `from` ms p50 (p95 twice that), then `after` runs at `to`. */
function movedHistory(before: number, from: number, after: number, to: number): HistoryRun[] {
  return Array.from({ length: before + after }, (_, i) => {
    const level = (i < before ? from : to) * jitter(i);
    return pastRun(level, 2 * level, i);
  });
}

const judged = (p50: number, runs: HistoryRun[]) => decideOn({ bursts: bursts(p50, 2 * p50), baseline: historySource(runs), gate });
const p50Row = (decision: Decision) => decision.comparisons.find((row) => row.metric === 'p50')!;

describe('a history whose level moved', { timeout: 10_000 }, () => {
  // 8 runs at 26.67 ms, then 5 at 20 ms: a speed-up of 25 % merged.
  const speedUp = movedHistory(8, 20 / 0.75, 5, 20);

  test('a build 15 % slower than the new level is a regression against the 5 runs since the change', () => {
    const decision = judged(23, speedUp);
    assert.equal(decision.verdict, 'regression', decision.headline);
    assert.ok(Math.abs(p50Row(decision).change! - 0.15) < 0.01, `p50 change ${p50Row(decision).change}`);
    const named =
      /^The history changed 5 runs ago, at commit sha8, -2[45]\.\d% on p50: judged against those 5 runs, not the 8 runs before\.$/;
    assert.ok(
      decision.notes.some((note) => named.test(note)),
      decision.notes.join('\n'),
    );
  });

  test('the same build passes against the new level', () => {
    const decision = judged(20, speedUp);
    assert.equal(decision.verdict, 'pass', decision.headline);
    assert.ok(Math.abs(p50Row(decision).change!) < 0.01);
    assert.equal(decision.mode, 'history');
  });

  test('a change 3 runs ago is judged as a cold start against those 3 runs, and says so', () => {
    const decision = judged(
      20,
      movedHistory(10, 100, 3, 75).map((run) => run),
    );
    assert.equal(decision.mode, 'cold-start');
    assert.ok(
      decision.notes.some((note) =>
        /^The history changed 3 runs ago, at commit sha10, -2[45]\.\d% on p50: judged against those 3 runs as a cold start/.test(note),
      ),
      decision.notes.join('\n'),
    );
    // 20 ms against a new level of 75 ms: far faster, never against the older 100 ms level.
    assert.ok(Math.abs(p50Row(decision).baseline! - 75) < 1, `baseline ${p50Row(decision).baseline}`);
  });

  test('a history that did not move is judged on all its runs, with no change named', () => {
    const flat = movedHistory(13, 20, 0, 20);
    const decision = judged(20, flat);
    assert.equal(decision.verdict, 'pass');
    assert.ok(!decision.notes.some((note) => note.includes('history changed')), decision.notes.join('\n'));
    assert.ok(decision.notes.some((note) => note.startsWith('Baseline: the last 13 healthy runs')));
  });
});
