// Fixed GateReports with realistic figures, one per story the comment must tell. Built by hand
// (not by running the pipeline) so the snapshots change only when the rendering does.

import type { SwapDevice, SwapReport } from '../../src/remote/swap.ts';
import type { BurstResult } from '../../src/load/measurement.ts';
import type { GateReport, PublicSettings } from '../../src/report/gate-report.ts';
import type { Comparison } from '../../src/verdict/decision.ts';
import type { BurstHostFigures } from '../../src/watch/burst-figures.ts';
import type { HostMachine } from '../../src/watch/machine.ts';
import type { BurstHostHealth, HealthFlag } from '../../src/watch/health.ts';

export const RUN_URL = 'https://github.com/acme/shop/actions/runs/9876543210';

const SETTINGS: PublicSettings = {
  url: 'https://staging.acme.dev/api/products?limit=20',
  method: 'GET',
  connections: 32,
  durationMs: 10_000,
  bursts: 5,
  warmupMs: 5_000,
  pipelining: 1,
  timeoutMs: 10_000,
  rate: null,
  loadProcesses: 1,
  abUrl: null,
  host: 'staging.acme.dev:22',
  maxMedianIncrease: 0.1,
  maxP95Increase: 0.15,
  maxErrorRate: 0.01,
  p95BudgetMs: null,
  baselineStore: 'branch',
  baselineKey: 'api-products',
};

/** A burst whose latencies scale with `p50`; the small wobble per index keeps rows distinct. */
export function burst(index: number, p50: number, overrides: Partial<BurstResult> = {}): BurstResult {
  const wobble = 1 + ((index * 7) % 5) / 100;
  const requestsPerSec = Math.round((32_000 / (p50 * wobble)) * 10) / 10;
  const ok = Math.round(requestsPerSec * 10);
  return {
    index,
    target: 'candidate',
    startedAt: new Date(Date.UTC(2026, 10, 24, 14, 2, 10 + index * 11)).toISOString(),
    durationMs: 10_000,
    histogram: '',
    p50: p50 * wobble,
    p90: p50 * 1.9 * wobble,
    p95: p50 * 2.4 * wobble,
    p99: p50 * 4.1 * wobble,
    p999: p50 * 7.3 * wobble,
    max: p50 * 11 * wobble,
    mean: p50 * 1.2 * wobble,
    requestsPerSec,
    ok,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    errorRate: 0,
    generatorCpu: 0.41 + index / 100,
    ...overrides,
  };
}

const FINGERPRINT: HostMachine = {
  kernel: '6.1.0-27-cloud-amd64',
  cpuModel: 'Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz',
  cpuCount: 2,
  memTotalKib: 3_919_912,
  swapTotalKib: 2_097_148,
  product: 't3.medium',
  vendor: 'Amazon EC2',
};

const SMALL_HOST: HostMachine = {
  kernel: '6.1.0-27-cloud-amd64',
  cpuModel: 'Intel(R) Xeon(R) CPU E5-2676 v3 @ 2.40GHz',
  cpuCount: 1,
  memTotalKib: 995_568,
  swapTotalKib: 0,
  product: 't2.micro',
  vendor: 'Xen',
};

function hostFigures(overrides: Partial<BurstHostFigures>): BurstHostFigures {
  return {
    samples: 10,
    spanSec: 10,
    memTotalKib: 3_919_912,
    memAvailableBeforeKib: 2_811_004,
    memAvailableMinKib: 2_402_316,
    memAvailableAfterKib: 2_790_112,
    swapTotalKib: 2_097_148,
    swapUsedPeakKib: 0,
    swapInPages: 0,
    swapOutPages: 0,
    majorFaults: 3,
    oomKills: 0,
    psiSomePeak: 0.4,
    psiFullPeak: 0,
    stealPercent: 0.3,
    load1Peak: 1.7,
    ...overrides,
  };
}

function hostBurst(
  burstIndex: number,
  figures: Partial<BurstHostFigures>,
  flags: HealthFlag[] = ['ok'],
  extra: Partial<BurstHostHealth> = {},
): BurstHostHealth {
  return {
    burstIndex,
    target: 'candidate',
    startedAt: new Date(Date.UTC(2026, 10, 24, 14, 2, 10 + burstIndex * 11)).toISOString(),
    figures: hostFigures(figures),
    oomKills: [],
    crashLines: { total: 0, quoted: [] },
    generatorCpu: 0.41 + burstIndex / 100,
    flags,
    gaps: [],
    ...extra,
  };
}

function swapReport(
  mode: SwapReport['mode'],
  memTotalBytes: number,
  devices: SwapDevice[],
  action: SwapReport['action'],
  message: string,
): SwapReport {
  const totalBytes = devices.reduce((sum, device) => sum + device.sizeBytes, 0);
  const usedBytes = devices.reduce((sum, device) => sum + device.usedBytes, 0);
  const state = { memTotalBytes, devices, totalBytes, usedBytes };
  return { mode, path: '/swapfile', before: state, after: state, action, fstabLineAdded: false, message };
}

const HEALTHY_HOST: NonNullable<GateReport['host']> = {
  address: 'staging.acme.dev:22',
  hostKeyFingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
  fingerprint: FINGERPRINT,
  swap: swapReport(
    'verify',
    4_013_989_888,
    [{ path: '/swapfile', type: 'file', sizeBytes: 2_147_479_552, usedBytes: 0 }],
    'verified',
    'swap is active: 2.0 GiB, at least the 2.0 GiB swap-size asks for',
  ),
  bursts: [0, 1, 2, 3, 4].map((index) => hostBurst(index, { memAvailableMinKib: 2_402_316 - index * 4_096 })),
};

function comparison(
  metric: Comparison['metric'],
  baseline: number,
  current: number,
  limit: string,
  status: Comparison['status'],
  reasoning: string,
): Comparison {
  return { metric, baseline, current, change: current / baseline - 1, limit, status, reasoning };
}

const CONTEXT = {
  eventName: 'pull_request',
  ref: 'refs/pull/412/merge',
  sha: '3f9c2e7a81d04b6c5e2f9a0b1c7d8e6f5a4b3c21',
  pullRequestNumber: 412,
  runUrl: RUN_URL,
};

const BASE = {
  schema: 'loadgate-report' as const,
  version: 1 as const,
  name: 'api',
  startedAt: '2026-11-24T14:01:58.000Z',
  finishedAt: '2026-11-24T14:03:12.000Z',
  context: CONTEXT,
  settings: SETTINGS,
};

const PERCENTILES = [50, 75, 90, 95, 99, 99.9] as const;

export function passReport(): GateReport {
  const bursts = [0, 1, 2, 3, 4].map((index) => burst(index, 12.1));
  return {
    ...BASE,
    verdict: 'pass',
    headline: 'p50 +1.7%, p95 -0.8% vs baseline (20 runs)',
    figures: { p50: 12.31, p90: 23.4, p95: 29.12, p99: 49.6, requestsPerSec: 2_598.4, errorRate: 0 },
    bursts,
    curve: { percentiles: PERCENTILES, baseline: [12.1, 16.9, 23.0, 29.35, 48.8, 87.2], candidate: [12.31, 17.2, 23.4, 29.12, 49.6, 88.9] },
    baseline: {
      location: 'branch loadgate-baseline',
      runs: 20,
      configDifferences: [],
      recorded: false,
      recordNote: 'only a push to the default branch records (update-baseline: auto)',
    },
    decision: {
      verdict: 'pass',
      mode: 'history',
      headline: 'p50 +1.7%, p95 -0.8% vs baseline (20 runs)',
      comparisons: [
        comparison('p50', 12.1, 12.31, '+10%', 'ok', 'p50 +1.7% (limit +10%), within the limit (20 runs)'),
        comparison('p95', 29.35, 29.12, '+15%', 'ok', 'p95 -0.8% (limit +15%), within the limit (20 runs)'),
        comparison('p99', 48.8, 49.6, '', 'info', 'p99 49.6 ms (+1.6%), for information'),
        comparison('requestsPerSec', 2_631.0, 2_598.4, '', 'info', '2,598 requests/s (-1.2%), for information'),
        {
          metric: 'errorRate',
          baseline: 0,
          current: 0,
          limit: '≤ 1%',
          status: 'ok',
          reasoning: '0 of 129,920 requests failed (0%, limit 1%)',
        },
      ],
      warnings: [],
      notes: ['Baseline: the last 20 healthy runs (2026-11-03T09:12:44.000Z to 2026-11-24T08:30:02.000Z).'],
      confirmed: false,
      crashed: false,
    },
    host: HEALTHY_HOST,
  };
}

export function regressionReport(): GateReport {
  const bursts = [...[0, 1, 2, 3, 4].map((index) => burst(index, 12.6)), ...[5, 6, 7, 8, 9].map((index) => burst(index, 12.8))];
  return {
    ...BASE,
    verdict: 'regression',
    headline: 'p95 +18.2% over baseline',
    figures: { p50: 12.74, p90: 28.1, p95: 34.69, p99: 61.2, requestsPerSec: 2_511.7, errorRate: 0 },
    bursts,
    curve: {
      percentiles: PERCENTILES,
      baseline: [12.1, 16.9, 23.0, 29.35, 48.8, 87.2],
      candidate: [12.74, 19.6, 28.1, 34.69, 61.2, 118.4],
    },
    baseline: {
      location: 'branch loadgate-baseline',
      runs: 20,
      configDifferences: [],
      recorded: false,
      recordNote: 'only a push to the default branch records (update-baseline: auto)',
    },
    decision: {
      verdict: 'regression',
      mode: 'history',
      headline: 'p95 +18.2% over baseline',
      comparisons: [
        comparison('p50', 12.1, 12.74, '+10%', 'ok', 'p50 +5.3% (limit +10%), within the limit (20 runs)'),
        comparison(
          'p95',
          29.35,
          34.69,
          '+15%',
          'regression',
          "p95 +18.2% (limit +15%), above the history's noise band (upper limit +7.9%, 20 runs)",
        ),
        comparison('p99', 48.8, 61.2, '', 'info', 'p99 61.2 ms (+25.4%), for information'),
        comparison('requestsPerSec', 2_631.0, 2_511.7, '', 'info', '2,512 requests/s (-4.5%), for information'),
        {
          metric: 'errorRate',
          baseline: 0,
          current: 0,
          limit: '≤ 1%',
          status: 'ok',
          reasoning: '0 of 251,170 requests failed (0%, limit 1%)',
        },
      ],
      warnings: [],
      notes: [
        'Baseline: the last 20 healthy runs (2026-11-03T09:12:44.000Z to 2026-11-24T08:30:02.000Z).',
        'Confirmed: the first 5 bursts gave regression; this verdict uses all 10.',
      ],
      confirmed: true,
      crashed: false,
    },
    host: { ...HEALTHY_HOST, bursts: bursts.map((b) => hostBurst(b.index, { memAvailableMinKib: 2_380_000 - b.index * 2_048 })) },
  };
}

export function inconclusiveReport(): GateReport {
  const bursts = [0, 1, 2, 3, 4].map((index) => burst(index, 14.2));
  const steal = [3.1, 12.4, 11.8, 9.6, 2.2];
  return {
    ...BASE,
    verdict: 'inconclusive',
    headline:
      "inconclusive: p95 +21.4% over baseline, but measured under CPU steal up to 12.4 % (burst 2, burst 3, burst 4): the hypervisor gave the target's CPU to other machines",
    figures: { p50: 14.4, p90: 27.6, p95: 35.63, p99: 58.9, requestsPerSec: 2_214.0, errorRate: 0 },
    bursts,
    curve: { percentiles: PERCENTILES, baseline: [12.1, 16.9, 23.0, 29.35, 48.8, 87.2], candidate: [14.4, 20.1, 27.6, 35.63, 58.9, 104.7] },
    baseline: {
      location: 'branch loadgate-baseline',
      runs: 20,
      configDifferences: [],
      recorded: false,
      recordNote: 'only a push to the default branch records (update-baseline: auto)',
    },
    decision: {
      verdict: 'inconclusive',
      mode: 'history',
      headline:
        "inconclusive: p95 +21.4% over baseline, but measured under CPU steal up to 12.4 % (burst 2, burst 3, burst 4): the hypervisor gave the target's CPU to other machines",
      comparisons: [
        comparison(
          'p50',
          12.1,
          14.4,
          '+10%',
          'inconclusive',
          "p50 +19.0% (limit +10%), above the history's noise band (upper limit +6.1%, 20 runs); not trusted, measured under CPU steal up to 12.4 % (burst 2, burst 3, burst 4): the hypervisor gave the target's CPU to other machines",
        ),
        comparison(
          'p95',
          29.35,
          35.63,
          '+15%',
          'inconclusive',
          "p95 +21.4% (limit +15%), above the history's noise band (upper limit +7.9%, 20 runs); not trusted, measured under CPU steal up to 12.4 % (burst 2, burst 3, burst 4): the hypervisor gave the target's CPU to other machines",
        ),
        comparison('p99', 48.8, 58.9, '', 'info', 'p99 58.9 ms (+20.7%), for information'),
        comparison('requestsPerSec', 2_631.0, 2_214.0, '', 'info', '2,214 requests/s (-15.8%), for information'),
        {
          metric: 'errorRate',
          baseline: 0,
          current: 0,
          limit: '≤ 1%',
          status: 'ok',
          reasoning: '0 of 110,700 requests failed (0%, limit 1%)',
        },
      ],
      warnings: [
        'The p50 history is too noisy for the +10% limit: its noise band reaches +23.5% (20 runs), so only slowdowns beyond that can fail the check. Use longer bursts, more connections or a quieter host.',
      ],
      notes: ['Baseline: the last 20 healthy runs (2026-11-03T09:12:44.000Z to 2026-11-24T08:30:02.000Z).'],
      confirmed: false,
      crashed: false,
    },
    host: {
      ...HEALTHY_HOST,
      bursts: steal.map((stealPercent, index) => hostBurst(index, { stealPercent }, stealPercent > 5 ? ['cpu-steal'] : ['ok'])),
    },
  };
}

/** The seed's story: a 1 GiB host without swap, gunicorn OOM-killed under load. */
export function hostOomReport(): GateReport {
  const failed = { non2xx: 412, errors: 37, timeouts: 0 };
  const bursts = [
    burst(0, 41.2),
    burst(1, 96.5, { ...failed, errorRate: 449 / 3_700, ok: 3_251 }),
    burst(2, 88.0, { non2xx: 61, errors: 0, timeouts: 0, errorRate: 61 / 3_600, ok: 3_539 }),
  ];
  const kill = {
    pid: 812,
    name: 'gunicorn',
    anonRssMb: 410,
    atEpochSec: 1_795_528_951,
    scope: 'host' as const,
    line: 'Out of memory: Killed process 812 (gunicorn) total-vm:512000kB, anon-rss:419840kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:1024kB oom_score_adj:0',
  };
  const crash = {
    kind: 'gunicorn worker SIGKILL',
    line: '[2026-11-24 14:02:31 +0000] [700] [ERROR] Worker (pid:812) was sent SIGKILL! Perhaps out of memory?',
  };
  const small = { memTotalKib: 995_568, swapTotalKib: 0, swapUsedPeakKib: null };
  const crashText = 'target crashed under load: the kernel killed gunicorn (pid 812, 410 MB) at 14:02:31 UTC during burst 2';
  return {
    ...BASE,
    settings: { ...SETTINGS, host: 'staging-small.acme.dev:22' },
    verdict: 'regression',
    headline: crashText,
    figures: { p50: 88.0, p90: 171.2, p95: 213.4, p99: 372.6, requestsPerSec: 361.0, errorRate: 510 / 10_900 },
    bursts,
    curve: {
      percentiles: PERCENTILES,
      baseline: [40.8, 55.1, 77.4, 97.0, 166.2, 301.5],
      candidate: [88.0, 121.9, 171.2, 213.4, 372.6, 1_240.0],
    },
    baseline: {
      location: 'file .loadgate/baseline.json',
      runs: 3,
      configDifferences: [],
      recorded: false,
      recordNote: 'only a push to the default branch records (update-baseline: auto)',
    },
    decision: {
      verdict: 'regression',
      mode: 'cold-start',
      headline: crashText,
      comparisons: [
        comparison('p50', 40.8, 88.0, '+10%', 'regression', 'p50 +115.7% (limit +10%); cold start: percent limit only (3 runs in history)'),
        comparison(
          'p95',
          97.0,
          213.4,
          '+15%',
          'regression',
          'p95 +120.0% (limit +15%); cold start: percent limit only (3 runs in history)',
        ),
        comparison('p99', 166.2, 372.6, '', 'info', 'p99 372.6 ms (+124.2%), for information'),
        comparison('requestsPerSec', 784.0, 361.0, '', 'info', '361 requests/s (-54.0%), for information'),
        {
          metric: 'errorRate',
          baseline: 0,
          current: 510 / 10_900,
          limit: '≤ 1%',
          status: 'regression',
          reasoning: '510 of 10,900 requests failed (4.68%, limit 1%)',
        },
      ],
      warnings: [],
      notes: [
        'Cold start: the history has 3 runs; the noise band needs 5, so only the percent limits apply.',
        `Crash: ${crashText.replace('target crashed under load: ', '')}.`,
        'Crash: gunicorn worker SIGKILL during burst 2: [2026-11-24 14:02:31 +0000] [700] [ERROR] Worker (pid:812) was sent SIGKILL! Perhaps out of memory?',
      ],
      confirmed: false,
      crashed: true,
    },
    host: {
      address: 'staging-small.acme.dev:22',
      hostKeyFingerprint: 'SHA256:Qd6rL0o3sY9xW2bT4uV1pN8mK7jH5gF3eD2cB1aZ0yX',
      fingerprint: SMALL_HOST,
      swap: swapReport('off', 1_019_461_632, [], 'reported', 'no swap is active (swap: off only reports)'),
      bursts: [
        hostBurst(0, {
          ...small,
          memAvailableBeforeKib: 612_400,
          memAvailableMinKib: 301_220,
          memAvailableAfterKib: 540_100,
          psiSomePeak: 4.2,
        }),
        hostBurst(
          1,
          {
            ...small,
            memAvailableBeforeKib: 540_100,
            memAvailableMinKib: 20_480,
            memAvailableAfterKib: 488_300,
            psiSomePeak: 35.5,
            psiFullPeak: 21.3,
            oomKills: 1,
            majorFaults: 2_912,
          },
          ['oom-kill', 'worker-crash', 'memory-pressure'],
          { oomKills: [kill], crashLines: { total: 1, quoted: [crash] } },
        ),
        hostBurst(
          2,
          { ...small, memAvailableBeforeKib: 488_300, memAvailableMinKib: 96_200, memAvailableAfterKib: 470_000, psiSomePeak: 18.9 },
          ['memory-pressure'],
        ),
      ],
    },
  };
}

export function errorReport(): GateReport {
  return {
    ...BASE,
    verdict: 'error',
    headline: 'swap check failed on staging.acme.dev: 0 MB of swap active, swap-size 2G needed',
    bursts: [],
    baseline: { location: 'branch loadgate-baseline', runs: 20, configDifferences: [], recorded: false, recordNote: '' },
    error: [
      'swap check failed on staging.acme.dev: 0 MB of swap active, swap-size 2G needed',
      'MemTotal 972 MB; /proc/swaps lists no devices.',
      'Set `swap: configure` to create /swapfile (2 GiB) before the load, or `swap: off` to only report it.',
    ].join('\n'),
  };
}

/** No baseline stored yet: one curve, nothing compared. */
export function firstRunReport(): GateReport {
  const report = passReport();
  return {
    ...report,
    headline: 'no baseline yet: p50 12.31 ms, p95 29.12 ms',
    curve: { percentiles: PERCENTILES, candidate: [12.31, 17.2, 23.4, 29.12, 49.6, 88.9] },
    baseline: {
      location: 'branch loadgate-baseline',
      runs: 0,
      configDifferences: [],
      recorded: false,
      recordNote: 'only a push to the default branch records (update-baseline: auto)',
    },
    decision: {
      ...report.decision!,
      mode: 'no-history',
      headline: 'no baseline yet: p50 12.31 ms, p95 29.12 ms',
      comparisons: report.decision!.comparisons.map(({ baseline: _baseline, change: _change, ...rest }) => ({
        ...rest,
        limit: rest.metric === 'errorRate' ? rest.limit : '',
        status: rest.metric === 'errorRate' ? ('ok' as const) : ('info' as const),
      })),
      notes: ['No baseline yet: this run was measured and reported, not compared. A run on the default branch stores one.'],
    },
  };
}

/** A regression measured with thousands of bursts: far over any comment limit in per-burst rows. */
export function hugeReport(burstCount: number): GateReport {
  const report = regressionReport();
  const bursts = Array.from({ length: burstCount }, (_, index) => burst(index, 12.6 + (index % 13) / 10));
  return {
    ...report,
    settings: { ...report.settings, bursts: burstCount, durationMs: 2_000 },
    bursts,
    host: { ...report.host!, bursts: bursts.map((b) => hostBurst(b.index, { memAvailableMinKib: 2_380_000 - (b.index % 50) * 2_048 })) },
  };
}
