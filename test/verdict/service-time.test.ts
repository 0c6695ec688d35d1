import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { historyBurstOf, parseDocument, serializeDocument, emptyDocument, appendRun, type HistoryRun } from '../../src/baseline/history.ts';
import { createLatencyHistogram, encodeHistogram } from '../../src/load/histogram.ts';
import type { BurstResult } from '../../src/load/measurement.ts';
import { buildReport } from '../../src/report/build-report.ts';
import { latencyTable } from '../../src/report/latency-table.ts';
import { parseReport } from '../../src/report/report-schema.ts';
import { parseInputs } from '../../src/config/parse.ts';
import { historySource } from '../../src/verdict/decide.ts';
import { endpointFigures, reduceRun, type StoredFigures } from '../../src/verdict/reduce-run.ts';
import { chooseBasis, serviceBurstOf, serviceTimeOf } from '../../src/verdict/service-time.ts';
import { burst, type BurstsInput, decideOn, gate, pastRun } from './bursts.ts';

const rtt = (medianMs: number, minMs = medianMs) => ({ medianMs, minMs, samples: 5, failed: 0 });

/** Five bursts of one run at this p50/p95 and network RTT (ms), figures spread ±1%. */
function runBursts(p50: number, p95: number, rttMs: number): BurstResult[] {
  return [1, 0.99, 1.01, 0.995, 1.005].map((f, index) => burst(p50 * f, p95 * f, { index, rtt: rtt(rttMs) }));
}

/** Six stored runs around this p50/p95, recorded at this RTT (undefined: an older run without RTT). */
function storedRuns(p50: number, p95: number, rttMs: number | undefined): HistoryRun[] {
  return [1, 0.99, 1.01, 0.995, 1.005, 1].map((f, i) => ({
    ...pastRun(p50 * f, p95 * f, i),
    bursts: runBursts(p50 * f, p95 * f, rttMs ?? 0).map((b) => {
      const stored = historyBurstOf(b);
      if (rttMs === undefined) delete stored.rttMs;
      return stored;
    }),
  }));
}

/** `networkRtt` false is `network-rtt: off`. */
const input = (current: BurstResult[], runs: HistoryRun[], networkRtt = true): BurstsInput => ({
  bursts: current,
  baseline: historySource(runs),
  gate,
  networkRtt,
});

/** The basis the stored rule chooses for these bursts against these runs, on their reduced figures. */
function basisOf(current: BurstResult[], runs: HistoryRun[], openLoop = false) {
  const { candidate, baseline } = endpointFigures(reduceRun({ bursts: current, baseline: historySource(runs) }));
  return chooseBasis(candidate.timed, baseline as StoredFigures, openLoop);
}

describe('service time arithmetic', { timeout: 10_000 }, () => {
  test('is the latency less the burst median RTT, never below zero', () => {
    assert.equal(serviceTimeOf(26.6, 24, 0.5), 2.6000000000000014);
    assert.equal(serviceTimeOf(3, 4.2, 0.5), 0);
    const stored = historyBurstOf(burst(30, 50, { rtt: rtt(20.5, 20.1) }));
    assert.equal(stored.rttMs, 20.5, 'the median is stored, not the min');
    assert.deepEqual(serviceBurstOf(stored), { ...stored, p50: 9.5, p95: 29.5 });
    assert.equal(serviceBurstOf(historyBurstOf(burst(30, 50))), undefined, 'no RTT, no service time');
  });

  test('a request on a new connection paid a handshake too: two round trips off where such requests reach the percentile', () => {
    // Every connection closed by the server (gunicorn sync workers): every request paid two round trips.
    assert.equal(serviceTimeOf(150, 30, 0.5, 1), 90);
    assert.equal(serviceTimeOf(150, 30, 0.95, 1), 90);
    // Keep-alive: 10 connections for 2,000 requests; only the first request of each paid a handshake.
    assert.equal(serviceTimeOf(150, 30, 0.5, 0.005), 120);
    assert.equal(serviceTimeOf(150, 30, 0.95, 0.005), 120);
    // A server closing every 10th connection: p95 holds the handshake, p50 does not.
    assert.equal(serviceTimeOf(150, 30, 0.5, 0.1), 120);
    assert.equal(serviceTimeOf(150, 30, 0.95, 0.1), 90);
    const closing = historyBurstOf(burst(70, 90, { rtt: rtt(30), newConnectionShare: 1 }));
    assert.equal(closing.newConnectionShare, 1, 'the share is stored with the burst');
    assert.deepEqual(serviceBurstOf(closing), { ...closing, p50: 10, p95: 30 });
  });

  test('over HTTPS a new connection also paid the TLS handshake: its round trips come off too', () => {
    // Connection: close behind TLS 1.3: TCP, TLS and the request, three round trips a request.
    assert.equal(serviceTimeOf(110, 30, 0.5, 1, 2), 20);
    // A full TLS 1.2 handshake takes two: four in all.
    assert.equal(serviceTimeOf(140, 30, 0.5, 1, 3), 20);
    // Keep-alive: only the first requests paid it, below p95.
    assert.equal(serviceTimeOf(50, 30, 0.95, 0.01, 2), 20);
    const tls = historyBurstOf(burst(110, 130, { rtt: rtt(30), newConnectionShare: 1, handshakeRoundTrips: 2 }));
    assert.equal(tls.handshakeRoundTrips, 2, 'stored with the burst');
    assert.deepEqual(serviceBurstOf(tls), { ...tls, p50: 20, p95: 40 });
    const before = historyBurstOf(burst(70, 90, { rtt: rtt(30), newConnectionShare: 1 }));
    assert.deepEqual(serviceBurstOf(before), { ...before, p50: 10, p95: 30 }, 'a burst stored before the count: TCP only');
  });

  test('the run figure is the median over bursts of each burst’s service time', () => {
    // Burst RTTs differ: the service time is taken per burst before the median, not median(p50) − median(RTT).
    const current = [burst(30, 40, { rtt: rtt(20) }), burst(31, 41, { rtt: rtt(25) }), burst(29, 39, { rtt: rtt(10) })];
    const runs = storedRuns(10, 20, 0);
    const decision = decideOn(input(current, runs));
    const p50 = decision.comparisons.find((c) => c.metric === 'p50')!;
    // Service p50s 10, 6, 19 → median 10; median(p50) − median(RTT) would be 30 − 20 = 10 too, so check p95: 20, 16, 29 → 20.
    assert.equal(p50.current, 10);
    assert.equal(decision.comparisons.find((c) => c.metric === 'p95')!.current, 20);
    assert.equal(decision.latencyBasis, 'service-time');
  });
});

describe('which latency a stored baseline is judged on', { timeout: 10_000 }, () => {
  const history5 = storedRuns(15, 20, 5);
  test('service time when the RTT rose or stayed, end-to-end when it fell', () => {
    assert.equal(basisOf(runBursts(35, 40, 25), history5).basis, 'service-time');
    assert.equal(basisOf(runBursts(15, 20, 5), history5).basis, 'service-time');
    const fell = basisOf(runBursts(15, 20, 1), storedRuns(35, 40, 25));
    assert.equal(fell.basis, 'end-to-end');
    assert.match(fell.reason, /network RTT 1.00 ms now, 25.0 ms in the history/);
  });
  test('at a fixed rate (paced, open loop) service time at any RTT, a fall below the history’s included', () => {
    const fell = basisOf(runBursts(15, 20, 1), storedRuns(35, 40, 25), true);
    assert.equal(fell.basis, 'service-time');
    assert.match(fell.reason, /at a fixed `rate` the arrivals do not depend on the round trip/);
    const slower = decideOn({ ...input(runBursts(1 + 10 * 1.3, 1 + 15 * 1.3, 1), storedRuns(35, 40, 25)), openLoop: true });
    assert.equal(slower.latencyBasis, 'service-time');
    assert.equal(slower.verdict, 'regression', 'a +30 % service time is not hidden by a 24 ms shorter round trip');
    assert.equal(
      decideOn(input(runBursts(1 + 10 * 1.3, 1 + 15 * 1.3, 1), storedRuns(35, 40, 25))).verdict,
      'pass',
      'closed loop: end to end, hidden',
    );
  });
  test('end-to-end when a handshake takes as long as a median request (loopback, a LAN): the difference would clamp to zero', () => {
    // Measured on 127.0.0.1: keep-alive p50 0.09 ms, a TCP handshake 0.44 ms.
    const loopback = basisOf(runBursts(0.09, 0.29, 0.44), storedRuns(0.1, 0.34, 0.48));
    assert.equal(loopback.basis, 'end-to-end');
    assert.match(loopback.reason, /a handshake took as long as a median request/);
    // A LAN: handshakes 2.5 ms, keep-alive requests 1.0 ms, then 2.4 ms: latency − RTT reads 0 → 0.
    const slower = decideOn(input(runBursts(2.4, 3, 2.5), storedRuns(1, 1.5, 2.5)));
    assert.equal(slower.verdict, 'regression', 'a 2.4× latency is not hidden behind a zero service time');
  });

  test('end-to-end when either side has no RTT: an old history, or this run with network-rtt off', () => {
    const old = basisOf(runBursts(35, 40, 25), storedRuns(15, 20, undefined));
    assert.equal(old.basis, 'end-to-end');
    assert.match(old.reason, /stored runs have no network RTT/);
    const none = basisOf([burst(35, 40)], history5);
    assert.equal(none.basis, 'end-to-end');
    const decision = decideOn(input(runBursts(35, 40, 25), history5, false));
    assert.equal(decision.latencyBasis, undefined, 'network-rtt: off decides as before');
    assert.equal(decision.verdict, 'regression', 'and a +20 ms RTT then reads as a slowdown');
  });
});

describe('verdicts when the RTT changed (unsaturated service: 10 ms of its own time)', { timeout: 10_000 }, () => {
  const history = storedRuns(15, 20, 5);
  test('the same build 20 ms further away passes, judged on service time', () => {
    const decision = decideOn(input(runBursts(35, 40, 25), history));
    assert.equal(decision.verdict, 'pass', decision.headline);
    assert.equal(decision.latencyBasis, 'service-time');
    assert.ok(decision.notes.some((note) => /Judged on service time/.test(note)));
  });
  test('a +25 % service slowdown 20 ms further away is a regression', () => {
    const decision = decideOn(input(runBursts(37.5, 42.5, 25), history));
    assert.equal(decision.verdict, 'regression', decision.headline);
    assert.ok(Math.abs(decision.comparisons.find((c) => c.metric === 'p50')!.change! - 0.25) < 0.01);
  });
  test('20 ms nearer is judged end to end, which cannot show the RTT fall as a slowdown', () => {
    const decision = decideOn(input(runBursts(15, 20, 5), storedRuns(35, 40, 25)));
    assert.equal(decision.latencyBasis, 'end-to-end');
    assert.equal(decision.verdict, 'pass', decision.headline);
  });
  test('nearer, a slowdown larger than the RTT fall still fails end to end', () => {
    // 25 ms RTT + 10 ms → 5 ms RTT + 40 ms: end-to-end 35 → 45 ms, +29 %.
    const decision = decideOn(input(runBursts(45, 50, 5), storedRuns(35, 40, 25)));
    assert.equal(decision.verdict, 'regression', decision.headline);
  });
});

describe('verdicts for a saturated closed loop (figures measured through the delay line)', { timeout: 10_000 }, () => {
  // 4 connections on a CPU-bound 2 ms handler: RTT 4.7 ms → client p50 8.3 ms (queueing, service 3.6 ms);
  // RTT 24.8 ms → client p50 26.7 ms (queue empty, service 1.9 ms). The same build in both.
  const atRtt4 = () => runBursts(8.3, 9.5, 4.7);
  const atRtt24 = () => runBursts(26.7, 28, 24.8);
  test('history at 4 ms, run at 24 ms: service time judged, it fell, no regression', () => {
    const decision = decideOn(input(atRtt24(), storedRuns(8.3, 9.5, 4.7)));
    assert.equal(decision.latencyBasis, 'service-time');
    assert.notEqual(decision.verdict, 'regression', decision.headline);
  });
  test('history at 24 ms, run at 4 ms: end-to-end judged (service time would read +90 %), no regression', () => {
    const decision = decideOn(input(atRtt4(), storedRuns(26.7, 28, 24.8)));
    assert.equal(decision.latencyBasis, 'end-to-end');
    assert.notEqual(decision.verdict, 'regression', decision.headline);
    const serviceHistory = storedRuns(26.7, 28, 24.8).map((run) => ({ ...run, bursts: run.bursts.map((b) => serviceBurstOf(b)!) }));
    const serviceNow = atRtt4().map((b) => ({ ...b, p50: b.p50 - 4.7, p95: b.p95 - 4.7 }));
    const judgedOnService = decideOn({ bursts: serviceNow, baseline: historySource(serviceHistory), gate });
    assert.equal(judgedOnService.verdict, 'regression', 'judging service time here would fail the same build');
  });
});

describe('the network-rtt input', { timeout: 10_000 }, () => {
  test('takes auto or off, and names itself and the accepted values otherwise', () => {
    const off = parseInputs({ url: 'http://127.0.0.1:8080/', 'network-rtt': 'off' });
    assert.equal(off.kind === 'measure' && off.settings.load.networkRtt, 'off');
    assert.throws(() => parseInputs({ url: 'http://127.0.0.1:8080/', 'network-rtt': 'yes' }), /network-rtt.*auto.*off/s);
  });
});

describe('the history and the report carry the RTT', { timeout: 10_000 }, () => {
  test('a stored run keeps rttMs per burst; a history without it still loads and is judged end to end', () => {
    const withRtt = appendRun(emptyDocument(), 'k', storedRuns(15, 20, 5)[0]);
    const text = serializeDocument(withRtt);
    assert.match(text, /"rttMs": 5/);
    const loaded = parseDocument(text, 'test');
    assert.equal(loaded.histories.k[0].bursts[0].rttMs, 5);
    const old = parseDocument(text.replaceAll(/,\s*"rttMs": 5/g, ''), 'test');
    assert.equal(old.histories.k[0].bursts[0].rttMs, undefined);
    assert.throws(() => parseDocument(text.replace('"rttMs": 5', '"rttMs": "5"'), 'test'), /rttMs is not a number/);
  });

  test('a paced burst whose first requests waited part-way through their handshakes stores under one round trip', () => {
    const run = storedRuns(15, 20, 5)[0];
    run.bursts[0] = historyBurstOf(burst(15, 20, { rtt: rtt(5), newConnectionShare: 0.03, handshakeRoundTrips: 0.4 }));
    const loaded = parseDocument(serializeDocument(appendRun(emptyDocument(), 'k', run)), 'test');
    assert.equal(loaded.histories.k[0].bursts[0].handshakeRoundTrips, 0.4);
    const text = serializeDocument(appendRun(emptyDocument(), 'k', run));
    assert.throws(
      () => parseDocument(text.replace('"handshakeRoundTrips": 0.4', '"handshakeRoundTrips": 4'), 'test'),
      /handshakeRoundTrips is not a number from 0 to 3/,
    );
  });

  test('report: the service time shown is the one judged, from the burst as stored', () => {
    // Raw 30.0006 − 5.0004 would show 25.000; the verdict judges the stored burst, 30.001 − 5.000.
    const histogram = createLatencyHistogram();
    histogram.recordValue(30_000);
    const encoded = encodeHistogram(histogram);
    histogram.destroy();
    const current = [0, 1, 2].map((index) => burst(30.0006, 40.0006, { index, rtt: rtt(5.0004), histogram: encoded }));
    const runs = storedRuns(25, 35, 5);
    const decision = decideOn(input(current, runs));
    assert.equal(decision.latencyBasis, 'service-time');
    const judged = decision.comparisons.find((c) => c.metric === 'p50')!.current;
    const plan = parseInputs({ url: 'http://10.213.9.2:8080/', 'baseline-store': 'file' });
    assert.equal(plan.kind, 'measure');
    const report = buildReport(plan.settings, { eventName: 'push', ref: 'refs/heads/main', sha: 'a'.repeat(40) } as never, {
      startedAt: '2026-12-01T00:00:00.000Z',
      finishedAt: '2026-12-01T00:00:10.000Z',
      baseline: { location: 'file', comparable: runs, window: runs, settingsChanges: [] },
      verdict: { bursts: current, decision },
      figures: reduceRun({ bursts: current, baseline: historySource(runs) }),
    });
    assert.equal(report.network?.serviceMedianMs, 25.001);
    assert.equal(report.network?.serviceMedianMs, Number(judged.toFixed(3)));
    assert.equal(report.network?.serviceP95Ms, 35.001);
  });

  test('report: network RTT row, service time beside end-to-end latency, schema round trip', () => {
    const plan = parseInputs({ url: 'http://10.213.9.2:8080/', 'baseline-store': 'file' });
    assert.equal(plan.kind, 'measure');
    const settings = plan.settings;
    assert.equal(settings.load.networkRtt, 'auto', 'the default');
    const runs = storedRuns(15, 20, 5);
    const histogram = createLatencyHistogram();
    histogram.recordValue(35_000);
    const current = runBursts(35, 40, 25).map((b) => ({ ...b, histogram: encodeHistogram(histogram) }));
    histogram.destroy();
    const decision = decideOn(input(current, runs));
    const report = buildReport(settings, { eventName: 'push', ref: 'refs/heads/main', sha: 'a'.repeat(40) } as never, {
      startedAt: '2026-12-01T00:00:00.000Z',
      finishedAt: '2026-12-01T00:00:10.000Z',
      baseline: { location: 'file', comparable: runs, window: runs, settingsChanges: [] },
      verdict: { bursts: current, decision },
      figures: reduceRun({ bursts: current, baseline: historySource(runs) }),
      rttBefore: rtt(24.8, 24.5),
    });
    assert.equal(report.network?.rttMs, 25);
    assert.equal(report.network?.historyRttMs, 5);
    assert.equal(report.network?.serviceMedianMs, 10);
    assert.equal(report.network?.serviceP95Ms, 15);
    const table = latencyTable(report);
    assert.match(table, /^\| Metric\s+\|\s+Baseline \| This run \|\s+Other measure \|\s+Change \|/);
    // Judged on service time: the baseline and this run both service time, end to end beside them.
    assert.match(table, /\| p50 \(median\), service time \|\s+10\.00? ms \|\s+10\.0 ms \|\s+35\.0 ms end to end \|\s+\+0\.0% \|/);
    assert.match(table, /\| network RTT\s+\|\s+5\.00 ms \|\s+25\.0 ms \|\s+— \|\s+— \|/);
    const reread = parseReport(JSON.parse(JSON.stringify(report)));
    assert.deepEqual(reread.network, report.network);
    assert.equal(reread.decision?.latencyBasis, 'service-time');
    const refused = { ...report, network: { ...report.network!, rttMs: undefined, failedProbes: 15, probes: 15 } };
    assert.match(latencyTable(refused), /\| network RTT\s+\|\s+5\.00 ms \|\s+— \|\s+— \|\s+— \|\s+— \| ⚠️ 15 of 15 probes failed \|/);
    const { network: _network, ...older } = JSON.parse(JSON.stringify(report));
    assert.equal(parseReport(older).network, undefined, 'a report without network figures still reads');
  });
});
