// The history's figures are checked against physical ranges (STORED_FIGURE_RANGES): what the
// writer produces always loads, a planted history with impossible figures is refused naming the
// run, the field and the accepted range.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  appendRun,
  emptyDocument,
  historyBurstOf,
  parseDocument,
  serializeDocument,
  type HistoryBurst,
  type HistoryRun,
} from '../../src/baseline/history.ts';
import type { BurstSample, BurstSpec } from '../../src/load/burst.ts';
import { combineSamples } from '../../src/load/engine.ts';
import { createLatencyHistogram, encodeHistogram, mergedCurve } from '../../src/load/histogram.ts';
import type { BurstResult } from '../../src/load/measurement.ts';

const CONFIG = {
  url: 'http://127.0.0.1/',
  method: 'GET',
  connections: 10,
  durationMs: 10_000,
  pipelining: 1,
  rate: null,
  bodySha256: null,
};

function run(i: number, bursts: HistoryBurst[], extra: Partial<HistoryRun> = {}): HistoryRun {
  return {
    sha: `c0ffee${i}`.padEnd(40, '0'),
    ref: 'refs/heads/main',
    time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    config: CONFIG,
    healthy: true,
    bursts,
    curve: [10, 12, 15, 20, 30, 40],
    ...extra,
  };
}

const SPEC: BurstSpec = {
  url: 'http://127.0.0.1/',
  method: 'GET',
  headers: {},
  connections: 10,
  pipelining: 1,
  timeoutMs: 10_000,
  durationMs: 10_000,
};
const GOOD: HistoryBurst = { p50: 10, p95: 20, p99: 30, requestsPerSec: 900, errorRate: 0, ok: 9000 };

/** `runs` under key `api`, serialized as the stores write them. */
const documentOf = (...runs: HistoryRun[]) => serializeDocument(runs.reduce((doc, r) => appendRun(doc, 'api', r), emptyDocument()));

/** A burst as the engine combines it (load/engine.ts) from a real microsecond histogram and counters. */
function measured(latenciesUs: number[], non2xx: number): BurstResult {
  const histogram = createLatencyHistogram();
  for (const us of latenciesUs) histogram.recordValue(us);
  const sample: BurstSample = {
    histogram: encodeHistogram(histogram),
    ok: latenciesUs.length,
    non2xx,
    errors: 0,
    timeouts: 0,
    wallMs: 10_000,
    cpuMs: 2_000,
    connections: 10,
    requestsBehindHandshakes: 0,
    handshakeRoundTrips: 0,
  };
  histogram.destroy();
  return combineSamples([sample], { spec: SPEC, index: 0, target: 'candidate' }, new Date());
}

describe('physical ranges of the stored figures', { timeout: 10_000 }, () => {
  it('loads what the writer stores: a burst of only errors (ok 0, latencies 0), 1 µs latencies, older runs without the newer fields', () => {
    const errorsOnly = measured([], 120);
    const allErrors = historyBurstOf(errorsOnly);
    assert.deepEqual([allErrors.ok, allErrors.p50, allErrors.p95, allErrors.p99, allErrors.errorRate], [0, 0, 0, 0, 1]);
    const fastestBurst = measured([1, 1, 2, 500], 0);
    const fastest = historyBurstOf(fastestBurst);
    assert.equal(fastest.p50, 0.001, 'the histogram records at least 1 µs');
    const curve = mergedCurve([fastestBurst.histogram, errorsOnly.histogram]);
    const old = { p50: 10.123456, p95: 20.5, p99: 31, requestsPerSec: 912.3, errorRate: 0.0001234, ok: 9123 };
    const runs = [
      run(0, [allErrors, fastest], { curve, hostSpeedMbps: 312.5 }),
      run(1, [old], { serviceMemory: { label: 'gunicorn', source: 'pss', peakKib: 626_688, processes: 3 } }),
      run(2, [allErrors], { curve: mergedCurve([errorsOnly.histogram]), healthy: false }),
    ];
    assert.deepEqual(parseDocument(documentOf(...runs), 'test').histories.api, runs);
  });

  it('refuses eight planted runs at p50 = p95 = 10^9 ms, naming the run, the field and the accepted range', () => {
    const planted = Array.from({ length: 8 }, (_, i) => run(i, [{ ...GOOD, p50: 1e9, p95: 1e9, p99: 1e9 }]));
    assert.throws(
      () => parseDocument(documentOf(...planted), 'baseline file .loadgate/baseline.json'),
      (error: Error) => {
        assert.equal(
          error.message,
          'baseline file .loadgate/baseline.json is not a loadgate baseline: histories.api[0].bursts[0].p50 is not a positive number ' +
            'up to 86,400,000 ms: it reads 1000000000, with ok 9000; in the run of commit c0ffee000000 stored at 2026-01-01T00:00:00.000Z. ' +
            'It was left untouched; point `baseline-path` elsewhere or remove the file.',
        );
        return true;
      },
    );
  });

  /** The problem `parseDocument` names for one run whose first burst is `burst`, after the healthy run 0. */
  const refusal = (burst: Partial<HistoryBurst>, extra: Partial<HistoryRun> = {}) => {
    try {
      parseDocument(documentOf(run(0, [GOOD]), run(1, [{ ...GOOD, ...burst }], extra)), 'here');
    } catch (error) {
      return (error as Error).message.replace(/^here is not a loadgate baseline: /, '').replace(/\. It was left untouched.*$/, '');
    }
    return 'accepted';
  };
  const inRun1 = '; in the run of commit c0ffee100000 stored at 2026-01-01T00:01:00.000Z';

  it('refuses counts that are negative or not whole, and latencies of zero or below where the burst had 2xx responses', () => {
    assert.equal(
      refusal({ ok: -1 }),
      `histories.api[1].bursts[0].ok is not a whole number from 0 to 86,400,000,000,000: it reads -1${inRun1}`,
    );
    assert.equal(
      refusal({ ok: 2.5 }),
      `histories.api[1].bursts[0].ok is not a whole number from 0 to 86,400,000,000,000: it reads 2.5${inRun1}`,
    );
    assert.equal(
      refusal({ p50: 0 }),
      `histories.api[1].bursts[0].p50 is not a positive number up to 86,400,000 ms: it reads 0, with ok 9000${inRun1}`,
    );
    assert.equal(
      refusal({ p50: -5 }),
      `histories.api[1].bursts[0].p50 is not a positive number up to 86,400,000 ms: it reads -5, with ok 9000${inRun1}`,
    );
    assert.equal(
      refusal({ p99: 90_000_000 }),
      `histories.api[1].bursts[0].p99 is not a positive number up to 86,400,000 ms: it reads 90000000, with ok 9000${inRun1}`,
    );
    assert.equal(
      refusal({ ok: 0, p50: 12, p95: 12, p99: 12 }),
      `histories.api[1].bursts[0].p50 is not 0 ms: it reads 12, with ok 0${inRun1}`,
      'a burst without 2xx responses has no latency: the writer stores 0',
    );
  });

  it('refuses percentiles out of order, rates and fractions out of range', () => {
    assert.equal(refusal({ p50: 25 }), `histories.api[1].bursts[0].p50 ≤ p95 ≤ p99 does not hold: they read 25, 20, 30${inRun1}`);
    assert.equal(refusal({ p99: 15 }), `histories.api[1].bursts[0].p50 ≤ p95 ≤ p99 does not hold: they read 10, 20, 15${inRun1}`);
    assert.equal(
      refusal({ requestsPerSec: -1 }),
      `histories.api[1].bursts[0].requestsPerSec is not a number from 0 to 1,000,000,000: it reads -1${inRun1}`,
    );
    assert.equal(refusal({ errorRate: 1.5 }), `histories.api[1].bursts[0].errorRate is not a number from 0 to 1: it reads 1.5${inRun1}`);
    assert.equal(
      refusal({ rttMs: -0.5 }),
      `histories.api[1].bursts[0].rttMs is not a number from 0 to 86,400,000 ms: it reads -0.5${inRun1}`,
    );
    assert.equal(
      refusal({ newConnectionShare: 2 }),
      `histories.api[1].bursts[0].newConnectionShare is not a number from 0 to 1: it reads 2${inRun1}`,
    );
  });

  it('refuses a curve, a host speed or a service memory outside its range', () => {
    assert.equal(
      refusal({}, { curve: [10, 12, 15, 20, 30, 1e9] }),
      `histories.api[1].curve[5] is not a number from 0 to 86,400,000 ms: it reads 1000000000${inRun1}`,
    );
    assert.equal(
      refusal({}, { curve: [10, 12, 9, 20, 30, 40] }),
      `histories.api[1].curve[2] is below the percentile before it (9 < 12): a latency curve never falls${inRun1}`,
    );
    assert.equal(
      refusal({}, { hostSpeedMbps: 1e9 }),
      `histories.api[1].hostSpeedMbps is not a positive number up to 1,000,000 MB/s: it reads 1000000000${inRun1}`,
    );
    const memory = { label: 'gunicorn', source: 'pss' as const, peakKib: 626_688, processes: 3 };
    assert.equal(
      refusal({}, { serviceMemory: { ...memory, peakKib: 2 ** 45 } }),
      `histories.api[1].serviceMemory.peakKib is not a number from 0 to 17,179,869,184 KiB: it reads 35184372088832${inRun1}`,
    );
    assert.equal(
      refusal({}, { serviceMemory: { ...memory, peakKib: -1 } }),
      `histories.api[1].serviceMemory.peakKib is not a number from 0 to 17,179,869,184 KiB: it reads -1${inRun1}`,
    );
    assert.equal(
      refusal({}, { serviceMemory: { ...memory, processes: 1.5 } }),
      `histories.api[1].serviceMemory.processes is not a whole number from 0 to 4,194,304: it reads 1.5${inRun1}`,
    );
  });
});
