import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baselineWindow, HISTORY_WINDOW_RUNS } from '../../src/baseline/window.ts';
import { pastRun } from '../verdict/bursts.ts';

describe('the baseline window', () => {
  test('the newest healthy runs with a 2xx response, oldest first; the rest counted as left out', () => {
    const failedRun = { ...pastRun(20, 40, 3), bursts: pastRun(20, 40, 3).bursts.map((burst) => ({ ...burst, ok: 0 })) };
    const runs = [pastRun(20, 40, 1), pastRun(20, 40, 2, false), failedRun, pastRun(21, 41, 4)];
    const window = baselineWindow(runs);
    assert.deepEqual(
      window.runs.map((run) => run.sha),
      ['sha1', 'sha4'],
    );
    assert.equal(window.leftOut, 2);
  });

  test(`at most ${HISTORY_WINDOW_RUNS} runs by default, the newest`, () => {
    const runs = Array.from({ length: 30 }, (_, i) => pastRun(20, 40, i));
    const window = baselineWindow(runs);
    assert.equal(window.runs.length, HISTORY_WINDOW_RUNS);
    assert.equal(window.runs[0]!.sha, 'sha10');
    assert.equal(window.runs.at(-1)!.sha, 'sha29');
    assert.equal(window.leftOut, 0, 'runs past the window are older, not left out');
    assert.equal(baselineWindow(runs, 5).runs[0]!.sha, 'sha25');
  });
});
