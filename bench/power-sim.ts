// Power of the verdict rule on synthetic bursts (no HTTP): how often it flags injected slowdowns
// and how often it cries wolf, in stored-baseline and A/B mode, with and without the confirmation
// bursts. Noise model: each run drifts by a uniform ±5% (shared by all its bursts, and in A/B by
// both targets), each burst jitters log-normally (σ 3% on p50, 6% on p95).
//
//   npx tsx bench/power-sim.ts [--trials 2000] [--ab-limit 0.03]
//
// --ab-limit sets max-median-increase and max-p95-increase for the A/B rows (default: the gate's).

import { parseArgs } from 'node:util';
import type { HistoryRun } from '../src/baseline/history.ts';
import { historyBurstOf } from '../src/baseline/history.ts';
import type { GateSettings } from '../src/config/settings.ts';
import type { BurstResult, BurstTarget } from '../src/load/measurement.ts';
import type { BaselineSource } from '../src/verdict/decide.ts';
import type { Verdict } from '../src/verdict/decision.ts';
import { runVerdict } from '../src/verdict/run-verdict.ts';
import { mulberry32 } from '../src/verdict/statistics.ts';

const P50_MS = 20;
const P95_MS = 60;
const RUN_DRIFT = 0.05;
const P50_JITTER = 0.03;
const P95_JITTER = 0.06;
const HISTORY_RUNS = 20;
const SLOWDOWNS = [0, 0.05, 0.1, 0.15, 0.2];
const BURST_COUNTS = [5, 10];

type Kind = 'p50+p95' | 'p95 only';
type Mode = 'stored' | 'ab';

const { values: options } = parseArgs({
  options: { trials: { type: 'string', default: '2000' }, 'ab-limit': { type: 'string' }, seed: { type: 'string', default: '1' } },
});
const trials = Number(options.trials);
const random = mulberry32(Number(options.seed));

const defaultGate: GateSettings = {
  maxMedianIncrease: 0.1,
  maxP95Increase: 0.15,
  maxErrorRate: 0.01,
  failOnRegression: true,
  failOnInconclusive: false,
};
const abLimit = options['ab-limit'] === undefined ? undefined : Number(options['ab-limit']);
const abGate: GateSettings = abLimit === undefined ? defaultGate : { ...defaultGate, maxMedianIncrease: abLimit, maxP95Increase: abLimit };

function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const drift = () => 1 + RUN_DRIFT * (2 * random() - 1);

function burst(index: number, target: BurstTarget, runDrift: number, slowP50: number, slowP95: number): BurstResult {
  const p50 = P50_MS * runDrift * (1 + slowP50) * Math.exp(P50_JITTER * gaussian());
  const p95 = Math.max(p50, P95_MS * runDrift * (1 + slowP95) * Math.exp(P95_JITTER * gaussian()));
  return {
    index,
    target,
    startedAt: '',
    durationMs: 10_000,
    histogram: '',
    p50,
    p90: p95 * 0.9,
    p95,
    p99: p95 * 1.3,
    p999: p95 * 1.6,
    max: p95 * 2,
    mean: p50 * 1.1,
    requestsPerSec: 500,
    ok: 5000,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    errorRate: 0,
    generatorCpu: 0.3,
  };
}

function series(count: number, runDrift: number, slowP50: number, slowP95: number, mode: Mode, from = 0): BurstResult[] {
  return Array.from({ length: count }, (_, i) =>
    mode === 'ab'
      ? [burst(from + 2 * i, 'baseline', runDrift, 0, 0), burst(from + 2 * i + 1, 'candidate', runDrift, slowP50, slowP95)]
      : [burst(from + i, 'candidate', runDrift, slowP50, slowP95)],
  ).flat();
}

function storedHistory(bursts: number): HistoryRun[] {
  return Array.from({ length: HISTORY_RUNS }, (_, i) => ({
    sha: `s${i}`,
    ref: 'refs/heads/main',
    time: '',
    healthy: true,
    curve: [],
    config: { url: '', method: 'GET', connections: 10, durationMs: 10_000, pipelining: 1, rate: null, bodySha256: null },
    bursts: series(bursts, drift(), 0, 0, 'stored').map(historyBurstOf),
  }));
}

/** One simulated run through the gate's own policy: the first verdict, and the verdict after confirmation bursts when asked for. */
async function trial(mode: Mode, bursts: number, slowdown: number, kind: Kind): Promise<{ first: Verdict; confirmed: Verdict }> {
  const baseline: BaselineSource = mode === 'ab' ? { kind: 'ab' } : { kind: 'history', runs: storedHistory(bursts) };
  const runDrift = drift();
  const slowP50 = kind === 'p50+p95' ? slowdown : 0;
  let first: Verdict | undefined;
  const { decision } = await runVerdict({
    baseline,
    settingsChanges: [],
    gate: mode === 'ab' ? abGate : defaultGate,
    measure: async (firstIndex) => series(bursts, runDrift, slowP50, slowdown, mode, firstIndex),
    findings: () => ({ crashes: [], environmentIssues: [] }),
    onConfirming: (decision) => (first = decision.verdict),
  });
  return { first: first ?? decision.verdict, confirmed: decision.verdict };
}

const percent = (n: number) => `${((100 * n) / trials).toFixed(1)}%`;

console.log(`# Verdict power simulation: ${trials} trials per row, seed ${options.seed}`);
console.log(
  `Noise: run drift uniform ±${RUN_DRIFT * 100}%, burst jitter σ ${P50_JITTER * 100}% (p50) / ${P95_JITTER * 100}% (p95); stored history ${HISTORY_RUNS} runs.`,
);
console.log(
  `Limits: stored +${defaultGate.maxMedianIncrease * 100}% p50 / +${defaultGate.maxP95Increase * 100}% p95; A/B +${abGate.maxMedianIncrease * 100}% p50 / +${abGate.maxP95Increase * 100}% p95.`,
);
console.log('"regression" is the detection rate (false-alarm rate at 0%); "inconclusive" never fails the check by default.\n');
console.log(
  '| mode | bursts | slowdown | regression (K) | inconclusive (K) | regression (confirmed) | inconclusive (confirmed) | runs confirming |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const mode of ['stored', 'ab'] as const) {
  for (const bursts of BURST_COUNTS) {
    for (const kind of ['p50+p95', 'p95 only'] as const) {
      for (const slowdown of SLOWDOWNS) {
        if (kind === 'p95 only' && slowdown === 0) continue;
        const tally = { first: { regression: 0, inconclusive: 0 }, confirmed: { regression: 0, inconclusive: 0 }, confirming: 0 };
        for (let i = 0; i < trials; i++) {
          const { first, confirmed } = await trial(mode, bursts, slowdown, kind);
          if (first === 'regression' || first === 'inconclusive') {
            tally.first[first]++;
            tally.confirming++;
          }
          if (confirmed === 'regression' || confirmed === 'inconclusive') tally.confirmed[confirmed]++;
        }
        const label = slowdown === 0 ? '0%' : `+${slowdown * 100}% ${kind}`;
        console.log(
          `| ${mode} | ${bursts} | ${label} | ${percent(tally.first.regression)} | ${percent(tally.first.inconclusive)} | ` +
            `${percent(tally.confirmed.regression)} | ${percent(tally.confirmed.inconclusive)} | ${percent(tally.confirming)} |`,
        );
      }
    }
  }
}
