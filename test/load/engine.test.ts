import { strict as assert } from 'node:assert';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { measureBurstInProcess } from '../../src/load/burst.ts';
import { runBurst } from '../../src/load/engine.ts';
import { decodeHistogram, mergeHistograms } from '../../src/load/histogram.ts';
import { runSeries, warmUp } from '../../src/load/series.ts';
import type { LoadSettings } from '../../src/config/settings.ts';

async function listen(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const load = (url: string, overrides: Partial<LoadSettings> = {}): LoadSettings => ({
  url,
  method: 'GET',
  headers: {},
  connections: 10,
  durationMs: 2000,
  bursts: 2,
  warmupMs: 500,
  pipelining: 1,
  timeoutMs: 5000,
  loadProcesses: 1,
  tlsVerify: true,
  ...overrides,
});

describe('load engine against a real server on 127.0.0.1', { timeout: 120_000 }, () => {
  let target: DemoTarget;
  before(async () => {
    target = await startTarget({ delayMs: 10 });
  });
  after(() => target.close());

  it('measures p50 at a known 10 ms service time plus little client overhead, with sub-millisecond resolution', async () => {
    target.behaviour = { delayMs: 10 };
    target.takeServiceMedianMs();
    const burst = await runBurst({ spec: load(target.url), index: 0, target: 'candidate' });
    // Node's timers fire late by a fraction of a millisecond on a busy machine: the server's own
    // clock says what "10 ms" really was. The client's own scheduling adds to it when other work
    // shares the two cores (+1.2 ms seen in CI), so this bounds the overhead rather than the
    // accuracy; the accuracy figures themselves are measured side by side by bench/accuracy.ts.
    const truth = target.takeServiceMedianMs();
    assert.ok(truth >= 10 && truth < 13, `server-side median ${truth} ms`);
    assert.ok(
      burst.p50 >= truth - 0.2 && burst.p50 < truth + 3,
      `p50 ${burst.p50} ms against the server's ${truth} ms: a client sees no response before the server sent it, and adds under 3 ms`,
    );
    assert.ok(burst.p50 !== Math.floor(burst.p50), 'p50 has sub-millisecond resolution');
    assert.ok(burst.p95 >= burst.p50 && burst.p99 >= burst.p95 && burst.max >= burst.p99);
    // A closed loop: 10 connections × 1000 ms / p50 (≈950 req/s at 10.5 ms, ≈650 at the bounds' 15 ms).
    assert.ok(burst.requestsPerSec > 600 && burst.requestsPerSec < 1000, `requests/s ${burst.requestsPerSec}`);
    assert.equal(burst.errorRate, 0);
    assert.equal(decodeHistogram(burst.histogram).totalCount, burst.ok);
  });

  it('ends a burst close to its configured duration, also below a second', async () => {
    target.behaviour = { delayMs: 2 };
    for (const durationMs of [300, 1500]) {
      const burst = await runBurst({ spec: load(target.url, { durationMs }), index: 0, target: 'candidate' });
      assert.ok(
        burst.durationMs >= durationMs && burst.durationMs < durationMs + 250,
        `${durationMs} ms burst took ${burst.durationMs} ms`,
      );
    }
  });

  it('times servers that close the connection after each response (gunicorn sync workers)', async () => {
    // autocannon alone measured p50 735 ms against this 60 ms service (honour-connection-close.ts).
    const closing = await listen((request, response) => {
      request.resume();
      setTimeout(() => response.writeHead(200, { connection: 'close' }).end('ok'), 60);
    });
    try {
      const burst = await runBurst({ spec: load(closing.url, { connections: 2, durationMs: 2000 }), index: 0, target: 'candidate' });
      assert.ok(burst.p50 > 59 && burst.p50 < 66, `p50 ${burst.p50} ms for a 60 ms service`);
      assert.ok(burst.p99 < 80, `p99 ${burst.p99} ms`);
      assert.equal(burst.errors, 0, 'a close announced by the server is not an error');
    } finally {
      await closing.close();
    }
  });

  it('counts a request the server dropped without answering as failed', async () => {
    let served = 0;
    const dropping = await listen((request, response) => {
      request.resume();
      served += 1;
      // Every fourth request dies with its worker: the socket closes with no response.
      if (served % 4 === 0) request.socket.destroy();
      else setTimeout(() => response.end('ok'), 5);
    });
    try {
      const burst = await runBurst({ spec: load(dropping.url, { connections: 2, durationMs: 1500 }), index: 0, target: 'candidate' });
      assert.ok(burst.errors > 0, 'dropped requests are counted');
      assert.ok(Math.abs(burst.errorRate - 0.25) < 0.05, `error rate ${burst.errorRate} ≈ 1 in 4`);
      assert.ok(burst.p50 < 10, `p50 ${burst.p50} ms is not inflated by the drops`);
    } finally {
      await dropping.close();
    }
  });

  it('keeps non-2xx out of the latency histogram and counts them as errors', async () => {
    target.behaviour = { delayMs: 2, errorShare: 0.2 };
    const burst = await runBurst({ spec: load(target.url, { durationMs: 1000 }), index: 0, target: 'candidate' });
    assert.ok(burst.non2xx > 0);
    assert.ok(Math.abs(burst.errorRate - 0.2) < 0.05, `error rate ${burst.errorRate}`);
    assert.equal(decodeHistogram(burst.histogram).totalCount, burst.ok);
  });

  it('counts timeouts on their own counter, not in the latency', async () => {
    target.behaviour = { delayMs: 1500 };
    const burst = await runBurst({
      spec: load(target.url, { durationMs: 3000, timeoutMs: 1000, connections: 2 }),
      index: 0,
      target: 'candidate',
    });
    assert.ok(burst.timeouts > 0, 'timeouts counted');
    assert.equal(burst.ok, 0);
    assert.equal(burst.p50, 0, 'no NaN, no latency without 2xx');
    assert.equal(burst.errorRate, 1);
  });

  it("means the same by `errors` in a process's sample as in the burst: connection errors, timeouts apart", async () => {
    target.behaviour = { delayMs: 1500 };
    const sample = await measureBurstInProcess({ ...load(target.url, { timeoutMs: 1000, connections: 2 }), durationMs: 3000 });
    assert.ok(sample.timeouts > 0, 'timeouts counted');
    assert.equal(sample.errors, 0, 'a timeout is not also a connection error');
  });

  it('corrects coordinated omission at a fixed rate with the real send interval', async () => {
    // 1 connection at 50 req/s (20 ms apart) against a 100 ms server: each response holds back
    // four sends. HDR back-fills them at 80, 60, 40, 20 ms, so the histogram counts the ~50/s
    // that should have been sent. autocannon's own interval (ceil(1/rate) = 1 ms) would
    // back-fill ~99 values per response and drag p50 towards 50 ms.
    target.behaviour = { delayMs: 100 };
    const burst = await runBurst({ spec: load(target.url, { connections: 1, rate: 50, durationMs: 2000 }), index: 0, target: 'candidate' });
    const recorded = decodeHistogram(burst.histogram).totalCount;
    const seconds = burst.durationMs / 1000;
    assert.ok(burst.ok < 12 * seconds, `the server could answer only ~10/s (${burst.ok} in ${seconds} s)`);
    assert.ok(recorded > 40 * seconds && recorded < 60 * seconds, `${recorded} values ≈ 50/s × ${seconds} s`);
    assert.ok(burst.p50 > 55 && burst.p50 < 70, `p50 ${burst.p50} ms is the median of 100, 80, 60, 40, 20`);
    assert.ok(burst.max >= 100);
  });

  it('paces a fixed rate: evenly spaced arrivals, not each second’s budget back to back', async () => {
    const arrivals: number[] = [];
    const server = await listen((_request, response) => {
      arrivals.push(performance.now());
      response.end('ok');
    });
    try {
      // 4 connections at 100 req/s: one send every 10 ms overall, each connection every 40 ms.
      const sample = await measureBurstInProcess({ ...load(server.url, { connections: 4, rate: 100 }), durationMs: 2000 });
      const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]);
      const busiest = Math.max(...arrivals.map((at) => arrivals.filter((other) => other >= at && other < at + 100).length));
      const sortedGaps = [...gaps].sort((a, b) => a - b);
      const medianGap = sortedGaps[Math.floor(gaps.length / 2)];
      assert.ok(sample.ok >= 190 && sample.ok <= 205, `${sample.ok} requests in 2 s at 100/s`);
      // autocannon's budget sent each second's 100 within a few ms of its start: 100 in 100 ms.
      assert.ok(busiest <= 13, `at most ${busiest} requests in any 100 ms`);
      assert.ok(medianGap > 8 && medianGap < 12, `median gap ${medianGap.toFixed(2)} ms between arrivals`);
      assert.equal(sample.connections, 4);
    } finally {
      await server.close();
    }
  });

  it('reports the generator’s own CPU share per burst', async () => {
    target.behaviour = { delayMs: 0 };
    const busy = await runBurst({ spec: load(target.url, { connections: 20, durationMs: 1500 }), index: 0, target: 'candidate' });
    target.behaviour = { delayMs: 50 };
    const idle = await runBurst({ spec: load(target.url, { connections: 2, durationMs: 1500 }), index: 0, target: 'candidate' });
    assert.ok(busy.generatorCpu > 0.3, `a zero-delay target keeps the generator busy (${busy.generatorCpu})`);
    assert.ok(idle.generatorCpu < 0.2, `a slow target leaves it idle (${idle.generatorCpu})`);
  });

  it('runs warmup then alternating A/B bursts and merges histograms exactly', async () => {
    target.behaviour = { delayMs: 5 };
    const before = target.requests;
    const plan = { load: load(target.url, { durationMs: 500, warmupMs: 300 }), abUrl: `${target.url}?build=baseline` };
    await warmUp(plan);
    assert.ok(target.requests > before, 'warmup sent requests');
    const bursts = await runSeries(plan, 2, 0);
    assert.deepEqual(
      bursts.map((b) => `${b.index}:${b.target}`),
      ['0:baseline', '1:candidate', '2:baseline', '3:candidate'],
    );
    const merged = mergeHistograms(bursts.map((b) => b.histogram));
    assert.equal(
      merged.totalCount,
      bursts.reduce((sum, b) => sum + b.ok, 0),
    );
  });
});
