// The regression adjustment of a stored history (verdict/adjustment.ts): it must leave a history
// without drift unchanged, take out what the host speed or the RTT explains, and never absorb a
// slowdown they do not explain.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { historyBurstOf, type HistoryRun } from '../../src/baseline/history.ts';
import { adjustHistory, coveredRange } from '../../src/verdict/adjustment.ts';
import { historySource } from '../../src/verdict/decide.ts';
import type { Decision } from '../../src/verdict/decision.ts';
import { mulberry32 } from '../../src/verdict/statistics.ts';
import { burst, decideOn, gate, pastRun } from './bursts.ts';

function seeded(seed: number) {
  const random = mulberry32(seed);
  return {
    uniform: (low: number, high: number) => low + (high - low) * random(),
    normal: () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()),
  };
}

/** A stored run with the given p50 (p95 20 ms more), host speed index and RTT on every burst. */
function run(p50: number, i: number, hostSpeedMbps?: number, rttMs?: number): HistoryRun {
  const bursts = [1, 0.995, 1.005].map((f, index) =>
    historyBurstOf(
      burst(p50 * f, (p50 + 20) * f, {
        index,
        ...(rttMs !== undefined && { rtt: { samples: 5, failed: 0, medianMs: rttMs, minMs: rttMs } }),
      }),
    ),
  );
  return { ...pastRun(p50, p50 + 20, i), bursts, ...(hostSpeedMbps !== undefined && { hostSpeedMbps }) };
}

/** This run's bursts: p50 and RTT. */
const current = (p50: number, rttMs?: number) =>
  [1, 0.995, 1.005].map((f, index) =>
    burst(p50 * f, (p50 + 20) * f, {
      index,
      ...(rttMs !== undefined && { rtt: { samples: 5, failed: 0, medianMs: rttMs, minMs: rttMs } }),
    }),
  );

const p50Row = (decision: Decision) => decision.comparisons.find((row) => row.metric === 'p50')!;

/** 20 runs of a CPU-bound service on a host whose speed (the index) varied 60–100 %: latency ∝ 1 / speed, ±1 % else. */
function creditHistory(seed: number): HistoryRun[] {
  const { uniform, normal } = seeded(seed);
  return Array.from({ length: 20 }, (_, i) => {
    const speed = uniform(0.6, 1);
    return run((20 / speed) * Math.exp(0.01 * normal()), i, 300 * speed * Math.exp(0.01 * normal()));
  });
}

describe('regression adjustment of the stored history', { timeout: 20_000 }, () => {
  test('a credit-throttled history whose level moved: the slopes from every run, the level from the runs since', () => {
    // 15 runs at 26.7 ms on a full-speed host, then 5 runs 25 % faster (a speed-up merged); the
    // host's speed varied 60–100 % throughout. The 5 runs alone are too few to adjust (8 needed).
    const runs = creditHistory(4).map((stored, i) => {
      if (i >= 15) return stored;
      const scaled = (ms: number) => ms / 0.75;
      return { ...stored, bursts: stored.bursts.map((b) => ({ ...b, p50: scaled(b.p50), p95: scaled(b.p95), p99: scaled(b.p99) })) };
    });
    const medianSpeed = 240;
    const same = decideOn({ bursts: current(20 / 0.8), baseline: historySource(runs), gate, hostSpeedMbps: medianSpeed });
    assert.equal(same.verdict, 'pass', `${same.headline}\n${same.notes.join('\n')}`);
    assert.match(same.notes.join('\n'), /The history changed 5 runs ago, at commit sha15, -2\d\.\d% on p50/);
    assert.match(same.notes.join('\n'), /tracks the host speed: adjusted to this run's and the runs before the change to its level/);
    const slower = decideOn({ bursts: current((1.15 * 20) / 0.8), baseline: historySource(runs), gate, hostSpeedMbps: medianSpeed });
    assert.equal(slower.verdict, 'regression', `${slower.headline}\n${slower.notes.join('\n')}`);
    assert.ok(slower.minDetectableChange! < 0.12, `min-detectable-change ${slower.minDetectableChange}`);
  });

  test('a history whose latency does not track the index is left as it is', () => {
    let adjusted = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { uniform, normal } = seeded(seed);
      const logs = Array.from({ length: 20 }, () => Math.log(20) + 0.03 * normal());
      const speeds = logs.map(() => Math.log(uniform(150, 300)));
      if (adjustHistory(logs, [{ name: 'host speed', history: speeds, current: speeds[0] }])) adjusted++;
    }
    // Cross-validation refuses a covariate that explains nothing (a 10 % gain is needed).
    assert.ok(adjusted <= 5, `adjusted ${adjusted} of 200 histories without drift`);
    const flat = Array(20).fill(Math.log(20));
    const speeds = Array.from({ length: 20 }, (_, i) => Math.log(200 + i));
    assert.equal(adjustHistory(flat, [{ name: 'host speed', history: speeds, current: Math.log(210) }]), undefined);
    assert.equal(adjustHistory(flat.slice(0, 7), [{ name: 'host speed', history: speeds.slice(0, 7), current: Math.log(210) }]), undefined);
    assert.equal(
      adjustHistory(flat, [{ name: 'host speed', history: [...speeds.slice(1), undefined], current: Math.log(210) }]),
      undefined,
    );
  });

  test('a decision on a history without drift is the same with and without an index', () => {
    const { uniform, normal } = seeded(7);
    const runs = Array.from({ length: 20 }, (_, i) => run(20 * Math.exp(0.03 * normal()), i, uniform(150, 300)));
    const plain = runs.map(({ hostSpeedMbps: _speed, ...rest }) => rest);
    for (const p50 of [20, 22, 26]) {
      const withIndex = decideOn({ bursts: current(p50), baseline: historySource(runs), gate, hostSpeedMbps: 160 });
      const without = decideOn({ bursts: current(p50), baseline: historySource(plain), gate });
      assert.deepEqual(withIndex.comparisons, without.comparisons);
      assert.equal(withIndex.verdict, without.verdict);
    }
  });

  test('a host held to 65 % of its speed: the same code passes, a +15 % slowdown fails, and the report says why', () => {
    const runs = creditHistory(3);
    const slowHost = 300 * 0.65;
    const same = decideOn({ bursts: current(20 / 0.65), baseline: historySource(runs), gate, hostSpeedMbps: slowHost });
    assert.equal(same.verdict, 'pass', same.headline);
    assert.match(
      same.notes.join('\n'),
      /The history's p50 tracks the host speed: adjusted to this run's \(predicting a held-out run \d+(\.\d)?% → \d(\.\d)?% off\)\./,
    );
    assert.ok(same.minDetectableChange! <= 0.1, `catches +${(same.minDetectableChange! * 100).toFixed(1)} %`);
    const slower = decideOn({ bursts: current((1.15 * 20) / 0.65), baseline: historySource(runs), gate, hostSpeedMbps: slowHost });
    assert.equal(slower.verdict, 'regression', slower.headline);
    assert.ok(Math.abs(p50Row(slower).change! - 0.15) < 0.03, `measured ${p50Row(slower).change}`);
    // Without the index the history's spread (the host's 60–100 %) makes the gate nearly blind, and
    // the same code on the slow host does not pass.
    const blind = decideOn({ bursts: current(20 / 0.65), baseline: historySource(runs), gate });
    assert.notEqual(blind.verdict, 'pass');
    assert.ok(blind.minDetectableChange! > 0.3, `blind, catches +${(blind.minDetectableChange! * 100).toFixed(1)} %`);
  });

  test('a slowdown the index does not explain is not absorbed', () => {
    const runs = creditHistory(4);
    const medianSpeed = 300 * 0.8;
    const decision = decideOn({ bursts: current((1.12 * 20) / 0.8), baseline: historySource(runs), gate, hostSpeedMbps: medianSpeed });
    assert.equal(decision.verdict, 'regression', decision.headline);
    assert.ok(Math.abs(p50Row(decision).change! - 0.12) < 0.03, `measured ${p50Row(decision).change}`);
  });

  test('extrapolates a quarter of the range at most: a host far slower than any in the history is adjusted only that far', () => {
    const runs = creditHistory(5);
    const logs = runs.map((r) => Math.log(r.bursts[0]!.p50));
    const speeds = runs.map((r) => Math.log(r.hostSpeedMbps!));
    const reach = coveredRange(speeds).low;
    assert.ok(Math.abs(Math.min(...speeds) - reach - 0.25 * (Math.max(...speeds) - Math.min(...speeds))) < 1e-12);
    const atEdge = adjustHistory(logs, [{ name: 'host speed', history: speeds, current: reach }])!;
    const beyond = adjustHistory(logs, [{ name: 'host speed', history: speeds, current: reach - Math.log(2) }])!;
    assert.deepEqual(beyond.logs, atEdge.logs);
    assert.ok(Math.abs(atEdge.used[0]!.slope + 1) < 0.15, `slope ${atEdge.used[0]!.slope}`);
  });

  test('a saturated service: service time tracks the RTT, and a shorter RTT within the history is no regression', () => {
    // 8 connections on a service that completes one request per 2.5 ms: the client waits 20 ms a
    // request whatever the RTT, so service time = 20 − RTT (verdict/service-time.ts).
    const { normal } = seeded(9);
    const runs = Array.from({ length: 20 }, (_, i) => run(20 * Math.exp(0.005 * normal()), i, undefined, 2 + (8 * i) / 19));
    const decision = decideOn({ bursts: current(20, 3), baseline: historySource(runs), gate, networkRtt: true });
    assert.equal(decision.latencyBasis, 'service-time');
    assert.equal(decision.verdict, 'pass', decision.headline + decision.notes.join('\n'));
    assert.match(decision.notes.join('\n'), /The history's p50 tracks the network RTT/);
    const slower = decideOn({ bursts: current(20 * 1.2, 3), baseline: historySource(runs), gate, networkRtt: true });
    assert.equal(slower.verdict, 'regression', slower.headline);
  });

  test('an unsaturated service: service time ignores the RTT, nothing is adjusted, a shorter RTT still judges service time', () => {
    const { uniform, normal } = seeded(10);
    const runs = Array.from({ length: 20 }, (_, i) => {
      const rtt = uniform(2, 40);
      return run(rtt + 25 * Math.exp(0.01 * normal()), i, undefined, rtt);
    });
    const same = decideOn({ bursts: current(5 + 25, 5), baseline: historySource(runs), gate, networkRtt: true });
    assert.equal(same.latencyBasis, 'service-time');
    assert.equal(same.verdict, 'pass', same.headline);
    assert.doesNotMatch(same.notes.join('\n'), /tracks the network RTT/);
    const slower = decideOn({ bursts: current(5 + 25 * 1.1, 5), baseline: historySource(runs), gate, networkRtt: true });
    assert.equal(slower.verdict, 'regression', slower.headline);
  });
});
