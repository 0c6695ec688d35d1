// A history that moved (issue 24): 8 stored runs at one level, then 5 runs 25 % faster, as when a
// speed-up merged. The bundle judges a pull request against the 5 runs since the change, not the
// centre of all 13, which is neither level. The history is planted from one real recorded run,
// scaled, with a deterministic ±1 % spread between runs.

import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HistoryBurst, HistoryRun } from '../../src/baseline/history.ts';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { runBundle } from '../support/run-bundle.ts';

const PUSH_TO_MAIN = { ref: 'refs/heads/main', repository: { default_branch: 'main', full_name: 'octo-org/shop' } };
const PULL_REQUEST = {
  pull_request: { number: 7, head: { repo: { full_name: 'octo-org/shop' } }, base: { repo: { full_name: 'octo-org/shop' } } },
  repository: { default_branch: 'main', full_name: 'octo-org/shop' },
};
const SERVICE_MS = 20;
const OLD_LEVEL_RUNS = 8;
const NEW_LEVEL_RUNS = 5;
/** The first run of the faster level: its commit starts the segment the gate judges against. */
const SPEED_UP_SHA = 'c0ffee1'.padEnd(40, '0');

/** Run i's own spread about its level: −1 %, 0, +1 %, repeating. */
const jitter = (i: number) => 1 + ((i % 3) - 1) / 100;

function scaledBurst(burst: HistoryBurst, factor: number): HistoryBurst {
  return { ...burst, p50: burst.p50 * factor, p95: burst.p95 * factor, p99: burst.p99 * factor };
}

function plantedHistory(recorded: HistoryRun): HistoryRun[] {
  return Array.from({ length: OLD_LEVEL_RUNS + NEW_LEVEL_RUNS }, (_, i) => {
    const factor = (i < OLD_LEVEL_RUNS ? 1 / 0.75 : 1) * jitter(i);
    return {
      ...recorded,
      sha: i === OLD_LEVEL_RUNS ? SPEED_UP_SHA : `${String(i).padStart(2, '0')}`.padEnd(40, 'a'),
      time: `2026-12-${String(i + 1).padStart(2, '0')}T08:00:00.000Z`,
      bursts: recorded.bursts.map((burst) => scaledBurst(burst, factor)),
      curve: recorded.curve.map((ms) => ms * factor),
    };
  });
}

describe('a history whose level moved: judged against the runs since the change', { timeout: 300_000 }, () => {
  let target: DemoTarget;
  let dir: string;
  let inputs: Record<string, string>;

  before(async () => {
    target = await startTarget({ delayMs: SERVICE_MS });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-change-point-'));
    inputs = {
      url: target.url,
      rate: '100',
      connections: '4',
      duration: '1s',
      bursts: '3',
      warmup: '500ms',
      'baseline-store': 'file',
      'baseline-path': join(dir, 'baseline.json'),
      comment: 'never',
    };
    // One real run of this build, recorded, then planted as 8 runs at the older, slower level
    // and 5 at this one.
    const recorded = await runBundle({ inputs, eventName: 'push', event: PUSH_TO_MAIN });
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    const document = JSON.parse(await readFile(join(dir, 'baseline.json'), 'utf8'));
    const [run] = document.histories.loadgate as HistoryRun[];
    document.histories.loadgate = plantedHistory(run!);
    await writeFile(join(dir, 'baseline.json'), JSON.stringify(document));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the same build passes against the new level, and the report names the change', async () => {
    const run = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'pass');
    assert.ok(Math.abs(Number(run.outputs['median-change'])) < 5, `median-change ${run.outputs['median-change']} against the new level`);
    assert.match(run.summary, /history changed 5 runs ago, at commit c0ffee1, -2[45]\.\d% on p50/);
  });

  it('a build 15 % slower than the new level is a regression, judged against the 5 runs since the change', async () => {
    target.behaviour = { delayMs: 23 };
    const run = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    target.behaviour = { delayMs: SERVICE_MS };
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'regression');
    assert.ok(Number(run.outputs['median-change']) > 10, `median-change ${run.outputs['median-change']}`);
    assert.match(run.summary, /judged against those 5 runs/);
    // Against the centre of all 13 runs (the old level) the same build read about −14 %: a pass.
  });
});
