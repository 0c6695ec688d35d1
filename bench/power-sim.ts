// Power of the verdict rule on synthetic bursts (no HTTP): how often it flags injected slowdowns
// and how often it cries wolf, in stored-baseline and A/B mode, with and without the confirmation
// bursts. Each burst jitters log-normally (σ --burst-jitter on p50, default 3 %, twice that on p95).
// Two drift profiles (issue 15):
// - U: each run drifts by a uniform ±5% nothing measures (shared by all its bursts, and in A/B by
//   both targets);
// - R: "a remote host with credits": per run the network RTT is uniform in 2–40 ms and the host's
//   CPU share in 60–100 % of a core, plus an unexplained ±2 %. The service (20 ms p50, 60 ms p95 at
//   a full core, CPU-bound, not saturated) takes 1/share as long; the RTT probe sees the RTT (±2 %
//   per burst), the host speed probe the share (log-normal σ --probe-noise, default 3 %). Stored
//   mode only: A/B measures both builds on the same host and network, so R's drift cancels there.
//
// --shift (issue 24): each stored history has 10–40 runs and one level shift of ±10–30 % at a
// random place with at least 5 runs after it (the window reads the newest 20); the run judged is at
// the new level, slowed down or not. Stored mode only.
//
//   npx tsx bench/power-sim.ts [--trials 2000] [--ab-limit 0.03] [--profile U|R|both] [--probe-noise 0.03] [--burst-jitter 0.03] [--shift]
//
// --ab-limit sets max-median-increase and max-p95-increase for the A/B rows (default: the gate's).

import { parseArgs } from 'node:util';
import type { HistoryRun } from '../src/baseline/history.ts';
import { historyBurstOf } from '../src/baseline/history.ts';
import type { GateSettings } from '../src/config/settings.ts';
import type { BurstResult, BurstTarget } from '../src/load/measurement.ts';
import { historySource, type BaselineSource } from '../src/verdict/decide.ts';
import type { Verdict } from '../src/verdict/decision.ts';
import { applyHostSpeedRule, hostSpeedFigures } from '../src/verdict/host-speed-rule.ts';
import { runVerdict } from '../src/verdict/run-verdict.ts';
import { median, mulberry32 } from '../src/verdict/statistics.ts';

const P50_MS = 20;
const P95_MS = 60;
const RUN_DRIFT = 0.05;
const HISTORY_RUNS = 20;
const SLOWDOWNS = [0, 0.05, 0.1, 0.15, 0.2];
const BURST_COUNTS = [5, 10];

type Kind = 'p50+p95' | 'p95 only';
type Mode = 'stored' | 'ab';

const { values: options } = parseArgs({
  options: {
    trials: { type: 'string', default: '2000' },
    'ab-limit': { type: 'string' },
    seed: { type: 'string', default: '1' },
    profile: { type: 'string', default: 'both' },
    'probe-noise': { type: 'string', default: '0.03' },
    'burst-jitter': { type: 'string', default: '0.03' },
    shift: { type: 'boolean', default: false },
  },
});
/** Per-burst log-normal jitter of p50; p95's is twice it (a tail rests on fewer requests). */
const P50_JITTER = Number(options['burst-jitter']);
const P95_JITTER = 2 * P50_JITTER;
const PROFILE_R = { rttMs: [2, 40], cpuShare: [0.6, 1], unexplained: 0.02, rttNoise: 0.02, probeNoise: Number(options['probe-noise']) };
const FULL_SPEED_MBPS = 300;
const trials = Number(options.trials);
/** --shift: the history's length and the shift's size and place (see the header). */
const SHIFTED_HISTORY_RUNS = [10, 40];
const SHIFT_SIZE = [0.1, 0.3];
const MIN_RUNS_AFTER_SHIFT = 5;
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

type Profile = 'U' | 'R';

/** What a run's bursts share: the drift nothing measures, and in profile R the network and the host's CPU share. */
interface RunConditions {
  drift: number;
  rttMs?: number;
  cpuShare?: number;
}

const uniform = ([low, high]: number[]) => low! + (high! - low!) * random();

function conditions(profile: Profile): RunConditions {
  if (profile === 'U') return { drift: 1 + RUN_DRIFT * (2 * random() - 1) };
  return {
    drift: 1 + PROFILE_R.unexplained * (2 * random() - 1),
    rttMs: uniform(PROFILE_R.rttMs),
    cpuShare: uniform(PROFILE_R.cpuShare),
  };
}

/** The host speed index the probe reports for a run (profile R), undefined without one. */
const probedSpeed = (run: RunConditions) =>
  run.cpuShare === undefined ? undefined : FULL_SPEED_MBPS * run.cpuShare * Math.exp(PROFILE_R.probeNoise * gaussian());

function burst(index: number, target: BurstTarget, run: RunConditions, slowP50: number, slowP95: number): BurstResult {
  const slower = run.drift / (run.cpuShare ?? 1);
  const rtt = run.rttMs ?? 0;
  const p50 = rtt + P50_MS * slower * (1 + slowP50) * Math.exp(P50_JITTER * gaussian());
  const p95 = Math.max(p50, rtt + P95_MS * slower * (1 + slowP95) * Math.exp(P95_JITTER * gaussian()));
  const measuredRtt = Number((rtt * Math.exp(PROFILE_R.rttNoise * gaussian())).toFixed(3));
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
    ...(run.rttMs !== undefined && { rtt: { samples: 5, failed: 0, medianMs: measuredRtt, minMs: measuredRtt } }),
  };
}

function series(count: number, run: RunConditions, slowP50: number, slowP95: number, mode: Mode, from = 0): BurstResult[] {
  return Array.from({ length: count }, (_, i) =>
    mode === 'ab'
      ? [burst(from + 2 * i, 'baseline', run, 0, 0), burst(from + 2 * i + 1, 'candidate', run, slowP50, slowP95)]
      : [burst(from + i, 'candidate', run, slowP50, slowP95)],
  ).flat();
}

/** A stored history's length, and the level of each run relative to the newest run's. */
interface HistoryShape {
  runs: number;
  /** Level of run i relative to the current one: 1 from the shift on. */
  levelOf(i: number): number;
}

const FLAT: HistoryShape = { runs: HISTORY_RUNS, levelOf: () => 1 };

function shiftedShape(): HistoryShape {
  const runs = Math.floor(uniform([SHIFTED_HISTORY_RUNS[0]!, SHIFTED_HISTORY_RUNS[1]! + 1]));
  const size = uniform(SHIFT_SIZE) * (random() < 0.5 ? -1 : 1);
  const at = 1 + Math.floor(random() * (runs - MIN_RUNS_AFTER_SHIFT));
  return { runs, levelOf: (i) => (i < at ? 1 / (1 + size) : 1) };
}

function storedHistory(bursts: number, profile: Profile, shape: HistoryShape): HistoryRun[] {
  return Array.from({ length: shape.runs }, (_, i) => {
    const conditioned = conditions(profile);
    const run = { ...conditioned, drift: conditioned.drift * shape.levelOf(i) };
    const hostSpeedMbps = probedSpeed(run);
    return {
      sha: `s${i}`,
      ref: 'refs/heads/main',
      time: '',
      healthy: true,
      curve: [],
      config: { url: '', method: 'GET', connections: 10, durationMs: 10_000, pipelining: 1, rate: null, bodySha256: null },
      bursts: series(bursts, run, 0, 0, 'stored').map(historyBurstOf),
      ...(hostSpeedMbps !== undefined && { hostSpeedMbps }),
    };
  });
}

/** One simulated run through the gate's own policy: the first verdict, and the verdict after confirmation bursts when asked for. */
async function trial(
  mode: Mode,
  profile: Profile,
  bursts: number,
  slowdown: number,
  kind: Kind,
): Promise<{ first: Verdict; confirmed: Verdict; detectable?: number }> {
  const history = mode === 'stored' ? storedHistory(bursts, profile, options.shift ? shiftedShape() : FLAT) : [];
  const baseline: BaselineSource = mode === 'ab' ? { kind: 'ab' } : historySource(history);
  const run = conditions(profile);
  const speed = probedSpeed(run);
  const slowP50 = kind === 'p50+p95' ? slowdown : 0;
  let first: Verdict | undefined;
  const { decision } = await runVerdict({
    baseline,
    settingsChanges: [],
    gate: mode === 'ab' ? abGate : defaultGate,
    networkRtt: true,
    hostSpeed: () => speed,
    measure: async (firstIndex) => series(bursts, run, slowP50, slowdown, mode, firstIndex),
    findings: () => ({ crashes: [], environmentIssues: [] }),
    hostRules: (decision) => applyHostSpeedRule(decision, hostSpeedFigures(speed, history)),
    onConfirming: (decision) => (first = decision.verdict),
  });
  return { first: first ?? decision.verdict, confirmed: decision.verdict, detectable: decision.minDetectableChange };
}

const percent = (n: number) => `${((100 * n) / trials).toFixed(1)}%`;

const profiles: Profile[] = options.profile === 'both' ? ['U', 'R'] : [options.profile as Profile];

console.log(`# Verdict power simulation: ${trials} trials per row, seed ${options.seed}`);
console.log(
  `Profile U: run drift uniform ±${RUN_DRIFT * 100}%. Profile R: RTT uniform ${PROFILE_R.rttMs.join('–')} ms, CPU share ${PROFILE_R.cpuShare.map((f) => f * 100).join('–')}% ` +
    `of a core, unexplained ±${PROFILE_R.unexplained * 100}%, host speed probe σ ${PROFILE_R.probeNoise * 100}%, RTT probe σ ${PROFILE_R.rttNoise * 100}%.`,
);
const historyShape = options.shift
  ? `${SHIFTED_HISTORY_RUNS.join('–')} runs, one level shift of ±${SHIFT_SIZE.map((f) => f * 100).join('–')}% with ≥ ${MIN_RUNS_AFTER_SHIFT} runs after it`
  : `${HISTORY_RUNS} runs`;
console.log(
  `Burst jitter σ ${P50_JITTER * 100}% (p50) / ${P95_JITTER * 100}% (p95); stored history ${historyShape}. ` +
    `Limits: stored +${defaultGate.maxMedianIncrease * 100}% p50 / +${defaultGate.maxP95Increase * 100}% p95; A/B +${abGate.maxMedianIncrease * 100}% p50 / +${abGate.maxP95Increase * 100}% p95.`,
);
console.log(
  '"regression" is the detection rate (false-alarm rate at 0%); "inconclusive" never fails the check by default; ' +
    '"min-detectable-change" is the median of what the gate printed.\n',
);
console.log(
  '| profile | mode | bursts | slowdown | regression (K) | inconclusive (K) | regression (confirmed) | inconclusive (confirmed) | runs confirming | min-detectable-change |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const profile of profiles) {
  for (const mode of profile === 'R' || options.shift ? (['stored'] as const) : (['stored', 'ab'] as const)) {
    for (const bursts of BURST_COUNTS) {
      for (const kind of ['p50+p95', 'p95 only'] as const) {
        for (const slowdown of SLOWDOWNS) {
          if (kind === 'p95 only' && slowdown === 0) continue;
          const tally = { first: { regression: 0, inconclusive: 0 }, confirmed: { regression: 0, inconclusive: 0 }, confirming: 0 };
          const detectable: number[] = [];
          for (let i = 0; i < trials; i++) {
            const result = await trial(mode, profile, bursts, slowdown, kind);
            if (result.first === 'regression' || result.first === 'inconclusive') {
              tally.first[result.first]++;
              tally.confirming++;
            }
            if (result.confirmed === 'regression' || result.confirmed === 'inconclusive') tally.confirmed[result.confirmed]++;
            if (result.detectable !== undefined) detectable.push(result.detectable);
          }
          const label = slowdown === 0 ? '0%' : `+${slowdown * 100}% ${kind}`;
          const printed = detectable.length ? `+${(100 * median(detectable)).toFixed(1)}%` : '—';
          console.log(
            `| ${profile} | ${mode} | ${bursts} | ${label} | ${percent(tally.first.regression)} | ${percent(tally.first.inconclusive)} | ` +
              `${percent(tally.confirmed.regression)} | ${percent(tally.confirmed.inconclusive)} | ${percent(tally.confirming)} | ${printed} |`,
          );
        }
      }
    }
  }
}
