// The service's memory: parsers of the files the sampler reads, the burst reduction, and the
// memory rules of the verdict, all on fixed text and figures.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { appendRun, emptyDocument, parseDocument, serializeDocument, type HistoryRun } from '../../src/baseline/history.ts';
import type { Decision } from '../../src/verdict/decision.ts';
import { applyMemoryRules, SWAP_HIDING_MEMORY } from '../../src/verdict/memory-rules.ts';
import { burstFigures } from '../../src/watch/burst-figures.ts';
import { parseSampleLine } from '../../src/watch/sample-line.ts';
import {
  describeServiceCandidates,
  parseCgroupBytes,
  parseProcStatus,
  parseServiceSegment,
  parseSmapsRollup,
  runServiceMemory,
  serviceBurstMemory,
  shortCommand,
  type ServiceSample,
} from '../../src/watch/service-memory.ts';
import { health, sample } from './health-fixtures.ts';

const SMAPS_ROLLUP = `55d4c0a00000-7ffd7a5f3000 ---p 00000000 00:00 0                          [rollup]
Rss:              204800 kB
Pss:              150528 kB
Pss_Dirty:        140000 kB
Pss_Anon:         139000 kB
Shared_Clean:      50000 kB
Private_Dirty:    140000 kB
Swap:                  0 kB
SwapPss:               0 kB
`;

const STATUS = `Name:\tgunicorn
State:\tS (sleeping)
Pid:\t812
VmPeak:\t  420000 kB
VmHWM:\t  230000 kB
VmRSS:\t  204800 kB
RssAnon:\t  150000 kB
Threads:\t1
`;

describe('service memory parsers', () => {
  test('smaps_rollup gives PSS and RSS', () => {
    assert.deepEqual(parseSmapsRollup(SMAPS_ROLLUP), { pssKib: 150528, rssKib: 204800 });
    assert.deepEqual(parseSmapsRollup(''), { pssKib: null, rssKib: null });
  });

  test('status gives VmRSS and VmHWM; a kernel thread has neither', () => {
    assert.deepEqual(parseProcStatus(STATUS), { rssKib: 204800, peakRssKib: 230000 });
    assert.deepEqual(parseProcStatus('Name:\tkworker/0:1\nState:\tI (idle)\nPid:\t12\n'), { rssKib: null, peakRssKib: null });
  });

  test('cgroup v2 memory.current / memory.peak and v1 usage_in_bytes are bytes; `max` is no figure', () => {
    assert.equal(parseCgroupBytes('641728512\n'), 626688);
    assert.equal(parseCgroupBytes('1073741824'), 1048576);
    assert.equal(parseCgroupBytes('max\n'), null);
    assert.equal(parseCgroupBytes(''), null);
  });

  test("the sampler's service segment: processes, cgroup figures, the count", () => {
    assert.deepEqual(parseServiceSegment('p 812 150528 204800\np 813 - 90000\ncg cur 641728512\ncg peak 700448768\nn 3'), {
      processes: [
        { pid: 812, pssKib: 150528, rssKib: 204800 },
        { pid: 813, pssKib: null, rssKib: 90000 },
      ],
      processCount: 3,
      cgroupCurrentKib: 626688,
      cgroupPeakKib: 684032,
    });
    assert.deepEqual(parseServiceSegment('n 0'), { processes: [], processCount: 0, cgroupCurrentKib: null, cgroupPeakKib: null });
    assert.equal(parseServiceSegment('awk: cannot open'), null);
  });

  test("each process's parent and command line, shortened to words that hold no option, value or address", () => {
    const segment = parseServiceSegment(
      'p 900 20480 30000 1 python3 /usr/bin/gunicorn --workers 2 --env DB=postgres://u:pw@db app.wsgi\np 901 - 90000 900 \nn 2',
    )!;
    assert.deepEqual(segment.processes, [
      { pid: 900, pssKib: 20480, rssKib: 30000, parentPid: 1, command: 'python3 gunicorn' },
      { pid: 901, pssKib: null, rssKib: 90000, parentPid: 900, command: '' },
    ]);
    assert.equal(shortCommand('gunicorn: worker [app.wsgi]'), 'gunicorn: worker [app.wsgi]');
    assert.equal(shortCommand('/opt/app/bin/server s3cr3t=1 x'), 'server');
    assert.equal(shortCommand('node https://user:pw@host/x'), 'node');
    assert.equal(shortCommand(`app ${'k'.repeat(41)}`), 'app');
    assert.equal(shortCommand('uwsgi --ini /etc/uwsgi/app.ini'), 'uwsgi');
  });

  test('a sampler line with a service segment decodes it; one without has none', () => {
    const host =
      '812.40 1500.00|MemTotal: 995568 kB;MemAvailable: 43120 kB;SwapTotal: 0 kB;SwapFree: 0 kB|' +
      'pswpin 0;pswpout 0;pgmajfault 77;oom_kill 1|' +
      'cpu  1000 10 500 8000 40 0 20 30 5 0;btime 1700000000||0.50 0.40 0.30 1/100 42';
    assert.deepEqual(parseSampleLine(host)!.services, []);
    const withService = parseSampleLine(`${host}|p 812 150528 204800;n 1`)!;
    assert.equal(withService.services[0]?.processes[0]?.pssKib, 150528);
  });

  test('processes that look like services: grouped by name, largest first, without kernel threads', () => {
    const ps = ' 204800 gunicorn\n 190000 gunicorn\n  80000 postgres\n      0 kworker/0:1\n  12000 sshd\n';
    assert.equal(describeServiceCandidates(ps), 'gunicorn (2 processes, 386 MB), postgres (1 process, 78 MB), sshd (1 process, 12 MB)');
    assert.equal(describeServiceCandidates(''), 'none found');
  });
});

const processes = (...pss: Array<number | null>): ServiceSample => ({
  processes: pss.map((kib, i) => ({ pid: 800 + i, pssKib: kib, rssKib: (kib ?? 50_000) + 20_000 })),
  processCount: pss.length,
  cgroupCurrentKib: null,
  cgroupPeakKib: null,
});

describe('a burst of service samples', () => {
  test('PSS when every process had it: the peak sample, its processes, the largest process', () => {
    const figures = serviceBurstMemory('gunicorn', [
      processes(100_000, 100_000),
      null,
      processes(150_000, 120_000, 110_000),
      processes(100_000),
    ])!;
    assert.deepEqual(figures, {
      label: 'gunicorn',
      source: 'pss',
      samples: 3,
      peakKib: 380_000,
      processesAtPeak: 3,
      processesMax: 3,
      largestProcessKib: 150_000,
      largestProcessPid: 800,
      cgroupPeakKib: null,
    });
  });

  test('RSS for every sample once one process had no PSS (never a mix)', () => {
    const figures = serviceBurstMemory('gunicorn', [processes(100_000, null)])!;
    assert.equal(figures.source, 'rss');
    assert.equal(figures.peakKib, 120_000 + 70_000);
  });

  test("a unit's cgroup figure is its total; no sample, no figures", () => {
    const unit = { ...processes(100_000), cgroupCurrentKib: 300_000, cgroupPeakKib: 400_000 };
    assert.equal(serviceBurstMemory('gunicorn.service', [unit])!.source, 'cgroup');
    assert.equal(serviceBurstMemory('gunicorn.service', [unit])!.peakKib, 300_000);
    assert.equal(serviceBurstMemory('x', [null, null]), null);
  });
});

const PASS: Decision = {
  verdict: 'pass',
  mode: 'history',
  headline: 'p50 +1.0%, p95 +0.5% vs baseline (5 runs)',
  warnings: [],
  notes: [],
  confirmed: false,
  crashed: false,
  comparisons: [
    { metric: 'p50', baseline: 20, current: 20.2, change: 0.01, limit: '+10%', status: 'ok', reasoning: '' },
    { metric: 'p95', baseline: 30, current: 30.15, change: 0.005, limit: '+15%', status: 'ok', reasoning: '' },
  ],
};
const LIMITS = { maxMemoryIncrease: 0.2, minMemoryHeadroom: 0.1 };

/** A burst whose service held `peakKib` in `workers` processes, on a host with `availableKib` left. */
function serviceBurst(index: number, peakKib: number, workers = 3, availableKib = 500_000, pswpin = 0) {
  const each = Math.round(peakKib / workers);
  const figures = burstFigures([sample({ uptime: 10 * index, availableKib }), sample({ uptime: 10 * index + 2, availableKib, pswpin })]);
  const service = serviceBurstMemory('gunicorn', [processes(...Array.from({ length: workers }, () => each))]);
  return health({ burstIndex: index, figures: { ...figures, service } });
}

const stored = (peakKib: number): { healthy: boolean; serviceMemory: unknown } => ({
  healthy: true,
  serviceMemory: runServiceMemory([serviceBurst(0, peakKib).figures.service]),
});

describe('memory rules', () => {
  const history = [430, 425, 428, 424, 431].map((mb) => stored(mb * 1024));

  test('workers 63 MB bigger each: a regression naming the growth in MB and the processes counted, latency rows untouched', () => {
    const decision = applyMemoryRules(PASS, {
      limits: LIMITS,
      hostBursts: [serviceBurst(0, 612 * 1024), serviceBurst(1, 600 * 1024)],
      history,
      live: false,
    });
    assert.equal(decision.verdict, 'regression');
    assert.match(decision.headline, /^gunicorn peaked at 612 MB, \+184 MB \(\+43\.\d%\) over baseline, 3 processes$/);
    const row = decision.comparisons.find((c) => c.metric === 'serviceMemory')!;
    assert.equal(row.status, 'regression');
    assert.equal(row.limit, '+20%');
    assert.match(row.reasoning, /above the history's noise band/);
    assert.deepEqual(decision.comparisons.slice(0, 2), PASS.comparisons);
  });

  test('within the limit: a pass with the row ok', () => {
    const decision = applyMemoryRules(PASS, { limits: LIMITS, hostBursts: [serviceBurst(0, 440 * 1024)], history, live: false });
    assert.equal(decision.verdict, 'pass');
    assert.equal(decision.headline, PASS.headline);
    assert.equal(decision.comparisons.find((c) => c.metric === 'serviceMemory')!.status, 'ok');
  });

  test('a tiny service that doubles by 4 MB is under the minimum change', () => {
    const small = [4, 4, 4, 4, 4].map((mb) => stored(mb * 1024));
    const decision = applyMemoryRules(PASS, { limits: LIMITS, hostBursts: [serviceBurst(0, 8 * 1024)], history: small, live: false });
    assert.equal(decision.verdict, 'pass');
  });

  test('old history runs without the figure are ignored: reported, not compared', () => {
    const decision = applyMemoryRules(PASS, {
      limits: LIMITS,
      hostBursts: [serviceBurst(0, 612 * 1024)],
      history: [{}],
      live: false,
    });
    assert.equal(decision.verdict, 'pass');
    const row = decision.comparisons.find((c) => c.metric === 'serviceMemory')!;
    assert.equal(row.status, 'info');
    assert.equal(row.baseline, undefined);
  });

  test('headroom under the minimum is a regression without any baseline', () => {
    const decision = applyMemoryRules(PASS, {
      limits: LIMITS,
      hostBursts: [serviceBurst(0, 612 * 1024, 3, 41 * 1024)],
      history: [],
      live: false,
    });
    assert.equal(decision.verdict, 'regression');
    assert.equal(decision.headline, 'at this load the host had 41 MB of 972 MB available (4.22%): the next peak kills a worker');
    assert.equal(decision.comparisons.find((c) => c.metric === 'memoryHeadroom')!.limit, '≥ 10%');
  });

  test('sustained swap-in while latency rose is named; over max-swap-in it is a regression', () => {
    const swapping = [0, 1, 2].map((i) => serviceBurst(i, 430 * 1024, 3, 300_000, 5_000));
    const reported = applyMemoryRules(PASS, { limits: LIMITS, hostBursts: swapping, history, live: false });
    assert.equal(reported.verdict, 'pass');
    assert.ok(
      reported.warnings.some((warning) => warning.includes(SWAP_HIDING_MEMORY)),
      reported.warnings.join('\n'),
    );
    const gated = applyMemoryRules(PASS, { limits: { ...LIMITS, maxSwapInMbPerSec: 1 }, hostBursts: swapping, history, live: false });
    assert.equal(gated.verdict, 'regression');
    assert.match(gated.headline, /^swap-in 9\.77 MB\/s \(median over 3 bursts\) over the 1 MB\/s limit/);
  });

  test('live A/B: the baseline deployment measured during the baseline bursts', () => {
    const bursts = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => {
      const burst = serviceBurst(i, (i % 2 ? 612 : 424) * 1024);
      if (i % 2 === 1) return burst;
      const baselineService = { ...burst.figures.service!, label: 'gunicorn-main' };
      return { ...burst, target: 'baseline' as const, figures: { ...burst.figures, service: null, baselineService } };
    });
    const decision = applyMemoryRules({ ...PASS, mode: 'ab' }, { limits: LIMITS, hostBursts: bursts, history: [], live: true });
    assert.equal(decision.verdict, 'regression');
    assert.match(decision.headline, /^gunicorn peaked at 612 MB, \+188 MB \(\+44\.3%\) over baseline, 3 processes$/);
  });

  test('a history written before this figure existed still loads, and a new run stores it compactly', () => {
    const old = JSON.parse(serializeDocument(emptyDocument()));
    old.histories.api = [
      {
        sha: 'a',
        ref: 'refs/heads/main',
        time: '2026-01-01T00:00:00Z',
        config: { url: 'http://x/' },
        healthy: true,
        bursts: [{ p50: 1, p95: 2, p99: 3, requestsPerSec: 10, errorRate: 0, ok: 10 }],
        curve: [1],
      },
    ];
    const document = parseDocument(JSON.stringify(old), 'test');
    const run = {
      ...document.histories.api![0]!,
      serviceMemory: runServiceMemory([serviceBurst(0, 612 * 1024).figures.service])!,
    } as HistoryRun;
    const reread = parseDocument(serializeDocument(appendRun(document, 'api', run)), 'test');
    assert.deepEqual(reread.histories.api![1]!.serviceMemory, { label: 'gunicorn', source: 'pss', peakKib: 626_688, processes: 3 });
  });
});

/** A gunicorn master (pid 900) and its workers (901…), each PSS in MB. */
const gunicorn = (masterMb: number, ...workersMb: number[]): ServiceSample => ({
  processes: [
    { pid: 900, pssKib: masterMb * 1024, rssKib: masterMb * 1024, parentPid: 1, command: 'python3 gunicorn' },
    ...workersMb.map((mb, i) => ({ pid: 901 + i, pssKib: mb * 1024, rssKib: mb * 1024, parentPid: 900, command: 'python3 gunicorn' })),
  ],
  processCount: 1 + workersMb.length,
  cgroupCurrentKib: null,
  cgroupPeakKib: null,
});

const gunicornBurst = (index: number, sample: ServiceSample) =>
  health({
    burstIndex: index,
    figures: { ...burstFigures([sample0(index), sample0(index)]), service: serviceBurstMemory('gunicorn', [sample]) },
  });
const sample0 = (index: number) => sample({ uptime: 10 * index, availableKib: 500_000 });

describe('memory growth by process', () => {
  const history = [0, 1, 2, 3, 4].map((i) => ({
    healthy: true,
    serviceMemory: runServiceMemory([gunicornBurst(0, gunicorn(20, 54 + (i % 2), 54)).figures.service]),
  }));

  test('two workers grown 140 MB each and the master not: the workers are named, largest first, not an average', () => {
    const decision = applyMemoryRules(PASS, {
      limits: LIMITS,
      hostBursts: [gunicornBurst(0, gunicorn(20, 195, 193))],
      history,
      live: false,
    });
    assert.equal(decision.verdict, 'regression');
    assert.match(
      decision.headline,
      /^gunicorn peaked at 408 MB, \+280 MB \(\+2\d\d\.\d%\) over baseline; by process: python3 gunicorn worker \+141 MB, python3 gunicorn worker \+139 MB, python3 gunicorn \+0\.0 MB$/,
    );
    assert.doesNotMatch(decision.headline, /each/);
  });

  test("a baseline without per-process figures: this run's largest processes are named", () => {
    const old = history.map((run) => ({ ...run, serviceMemory: { ...run.serviceMemory!, perProcess: undefined } }));
    const decision = applyMemoryRules(PASS, {
      limits: LIMITS,
      hostBursts: [gunicornBurst(0, gunicorn(20, 195, 193))],
      history: old,
      live: false,
    });
    assert.match(
      decision.headline,
      /over baseline; largest now: python3 gunicorn worker 195 MB, python3 gunicorn worker 193 MB, python3 gunicorn 20 MB \(the baseline has no per-process figures\)$/,
    );
  });

  test('the history keeps each process without its pid; an old history without them still loads; a bad figure is refused', () => {
    const stored = runServiceMemory([gunicornBurst(0, gunicorn(20, 195, 193)).figures.service])!;
    assert.deepEqual(stored.perProcess, [
      { command: 'python3 gunicorn', worker: true, peakKib: 195 * 1024 },
      { command: 'python3 gunicorn', worker: true, peakKib: 193 * 1024 },
      { command: 'python3 gunicorn', worker: false, peakKib: 20 * 1024 },
    ]);
    const base = {
      sha: 'a',
      ref: 'refs/heads/main',
      time: '2026-01-01T00:00:00Z',
      config: { url: 'http://x/' },
      healthy: true,
      bursts: [{ p50: 1, p95: 2, p99: 3, requestsPerSec: 10, errorRate: 0, ok: 10 }],
      curve: [1],
    } as unknown as HistoryRun;
    const document = appendRun(emptyDocument(), 'api', { ...base, serviceMemory: stored });
    assert.deepEqual(parseDocument(serializeDocument(document), 'test').histories.api![0]!.serviceMemory, stored);
    const bad = JSON.parse(serializeDocument(document));
    bad.histories.api[0].serviceMemory.perProcess[1].peakKib = -5;
    assert.throws(() => parseDocument(JSON.stringify(bad), 'test'), /serviceMemory\.perProcess\[1\]\.peakKib is not a number from 0 to/);
  });
});

describe('memory rules on a history whose level moved', () => {
  test('the peak is judged against the runs since the change, which the reasoning names', () => {
    const MiB = 1024;
    // 8 runs at 400 MB, then 6 at 300 MB (±1 %): a change that cut the workers' memory merged.
    const history = [...Array(8).fill(400), ...Array(6).fill(300)].map((mb, i) => stored(mb * (1 + ((i % 3) - 1) / 100) * MiB));
    const decision = applyMemoryRules(PASS, { limits: LIMITS, hostBursts: [serviceBurst(0, 390 * MiB)], history, live: false });
    const row = decision.comparisons.find((c) => c.metric === 'serviceMemory')!;
    assert.equal(row.status, 'regression', row.reasoning);
    assert.ok(Math.abs(row.baseline! - 300) < 3, `baseline ${row.baseline} MB`);
    assert.match(row.reasoning, /6 runs since the history changed -2[45]\.\d%/);
  });
});
