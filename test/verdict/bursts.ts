// Fixed burst and history data for the verdict tests.

import { historyBurstOf, type HistoryRun } from '../../src/baseline/history.ts';
import type { GateSettings } from '../../src/config/settings.ts';
import type { BurstResult, BurstTarget } from '../../src/load/measurement.ts';
import { decide, type BaselineSource, type DecisionInput } from '../../src/verdict/decide.ts';
import type { Decision } from '../../src/verdict/decision.ts';
import { endpointFigures, reduceRun } from '../../src/verdict/reduce-run.ts';

export const gate: GateSettings = {
  maxMedianIncrease: 0.1,
  maxP95Increase: 0.15,
  maxErrorRate: 0.01,
  failOnRegression: true,
  failOnInconclusive: false,
};

/** A decision input on bursts: decideOn reduces them (verdict/reduce-run.ts), as runVerdict does. */
export type BurstsInput = Omit<DecisionInput, 'figures'> & { bursts: BurstResult[]; baseline: BaselineSource };

/** The decision on bursts against a baseline, as runVerdict makes it before its host rules. */
export function decideOn({ bursts, baseline, ...input }: BurstsInput): Decision {
  return decide({ ...input, figures: endpointFigures(reduceRun({ bursts, baseline, hostSpeedMbps: input.hostSpeedMbps })) });
}

/** A healthy 10 s burst of 10,000 2xx responses with the given p50 and p95 (ms). */
export function burst(p50: number, p95: number, overrides: Partial<BurstResult> = {}): BurstResult {
  return {
    index: 0,
    target: 'candidate',
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 10_000,
    histogram: '',
    p50,
    p90: p95 * 0.95,
    p95,
    p99: p95 * 1.5,
    p999: p95 * 2,
    max: p95 * 3,
    mean: p50 * 1.1,
    requestsPerSec: 1000,
    ok: 10_000,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    errorRate: 0,
    generatorCpu: 0.3,
    ...overrides,
  };
}

/** Bursts of one run: the figures spread ±1% around p50/p95 so their median is exactly p50/p95. */
export function bursts(p50: number, p95: number, count = 5, target: BurstTarget = 'candidate'): BurstResult[] {
  const spread = [1, 0.99, 1.01, 0.995, 1.005, 0.985, 1.015, 0.98, 1.02, 0.975, 1.025];
  return Array.from({ length: count }, (_, index) => burst(p50 * spread[index]!, p95 * spread[index]!, { index, target }));
}

/** A/B bursts, alternating baseline and candidate, each figure given per burst. */
export function abBursts(baseline: Array<[number, number]>, candidate: Array<[number, number]>): BurstResult[] {
  return baseline.flatMap(([p50, p95], i) => [
    burst(p50, p95, { index: 2 * i, target: 'baseline' }),
    burst(candidate[i]![0], candidate[i]![1], { index: 2 * i + 1, target: 'candidate' }),
  ]);
}

/** One past run whose median p50 and p95 are the given figures. */
export function pastRun(p50: number, p95: number, i: number, healthy = true): HistoryRun {
  return {
    sha: `sha${i}`,
    time: `2025-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`,
    ref: 'refs/heads/main',
    config: {
      url: 'http://127.0.0.1:8080/',
      method: 'GET',
      connections: 10,
      durationMs: 10_000,
      pipelining: 1,
      rate: null,
      bodySha256: null,
    },
    healthy,
    curve: [],
    bursts: bursts(p50, p95).map(historyBurstOf),
  };
}

/** Past runs with the given p95 figures (p50 a fifth of each). */
export function history(p95s: number[]): HistoryRun[] {
  return p95s.map((p95, i) => pastRun(p95 / 5, p95, i));
}
