// Network RTT and service time through the delay line (FIELD-NOTES "Simulating a remote host"):
// the target lives in a namespace this test makes, at 10.213.9.2, behind a user-space delay whose
// RTT the test changes. Needs root. Traffic goes only to that address.

import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LoadSettings } from '../../src/config/settings.ts';
import { probeNow, rttTargetOf } from '../../src/load/rtt-probe.ts';
import { runSeries } from '../../src/load/series.ts';
import { serviceTimeOf } from '../../src/verdict/service-time.ts';
import { delayedPort, startRemoteHost, type DelayedPort, type RemoteHost } from '../support/delay-line.ts';
import { runBundle, type BundleRun } from '../support/run-bundle.ts';
import { selfSignedCertificate } from '../support/tls-cert.ts';

const PUSH_TO_MAIN = { ref: 'refs/heads/main', repository: { default_branch: 'main', full_name: 'octo-org/shop' } };
const PULL_REQUEST = {
  pull_request: { number: 7, head: { repo: { full_name: 'octo-org/shop' } }, base: { repo: { full_name: 'octo-org/shop' } } },
  repository: { default_branch: 'main', full_name: 'octo-org/shop' },
};

describe('network RTT through the delay line (10.213.9.2)', { timeout: 400_000 }, () => {
  let host: RemoteHost;
  let dir: string;
  before(async () => {
    host = await startRemoteHost('lgh9rtt', '10.213.9', 8099, 5);
    dir = await mkdtemp(join(tmpdir(), 'loadgate-rtt-'));
  });
  after(async () => {
    await host?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const inputsFor = (key: string, extra: Record<string, string> = {}) => ({
    url: host.url,
    connections: '4',
    // The first request on each connection also pays the TCP handshake, one more RTT: 3 s bursts
    // keep those 4 requests under 2 % of a burst at 25 ms, out of its p95 (1 s put them at 4-7 %).
    duration: '3s',
    bursts: '3',
    warmup: '500ms',
    'baseline-store': 'file',
    'baseline-path': join(dir, 'baseline.json'),
    'baseline-key': key,
    comment: 'never',
    ...extra,
  });
  /** One burst of 4 connections against the host, without the gate around it. */
  const oneBurst = (overrides: Partial<LoadSettings> = {}): LoadSettings => ({
    url: host.url,
    method: 'GET',
    headers: {},
    connections: 4,
    durationMs: 1500,
    bursts: 1,
    warmupMs: 0,
    pipelining: 1,
    timeoutMs: 5000,
    loadProcesses: 1,
    tlsVerify: true,
    ...overrides,
  });
  const note = (run: BundleRun) =>
    `${run.outputs.verdict}: ${run.report?.headline} (rtt ${run.outputs['network-rtt-ms']}, service p50 ${run.outputs['service-median-ms']})`;

  for (const [load, extra] of [
    ['closed loop', {}],
    ['rate: 100', { rate: '100' }],
  ] as const) {
    it(`${load}: history at RTT 5 ms; the same build at 25 ms passes on service time; +25 % service time at another RTT fails`, async (t) => {
      const key = load === 'closed loop' ? 'closed' : 'rate';
      await host.setBehaviour({ mode: 'sleep', ms: 20 });
      await host.setRttMs(5);
      const recorded = await runBundle({ inputs: inputsFor(key, extra), eventName: 'push', event: PUSH_TO_MAIN });
      assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
      const rttAt5 = Number(recorded.outputs['network-rtt-ms']);
      assert.ok(Math.abs(rttAt5 - 5) < 2.5, `network-rtt-ms ${rttAt5}`);
      assert.ok(Math.abs(Number(recorded.outputs['service-median-ms']) - 20) < 4, note(recorded));
      t.diagnostic(`recorded: p50 ${recorded.outputs['median-ms']} ms; ${note(recorded)}`);

      await host.setRttMs(25);
      const farther = await runBundle({ inputs: inputsFor(key, extra), eventName: 'pull_request', event: PULL_REQUEST });
      t.diagnostic(`+20 ms: p50 ${farther.outputs['median-ms']} ms; ${note(farther)}`);
      assert.equal(farther.outputs.verdict, 'pass', note(farther) + farther.stdout);
      assert.ok(
        Number(farther.outputs['median-ms']) > Number(recorded.outputs['median-ms']) + 15,
        'end-to-end latency did rise by the RTT',
      );
      assert.ok(Math.abs(Number(farther.outputs['network-rtt-ms']) - 25) < 2.5);
      assert.equal((farther.report?.decision as { latencyBasis?: string } | undefined)?.latencyBasis, 'service-time');
      assert.match(farther.summary, /\| network RTT\s+\|/);
      assert.match(farther.summary, /\| p50 \(median\), service time \|\s+\d+\.\d ms \|\s+\d+\.\d ms \|\s+\d+\.\d ms end to end \|/);

      const off = await runBundle({
        inputs: inputsFor(key, { ...extra, 'network-rtt': 'off' }),
        eventName: 'pull_request',
        event: PULL_REQUEST,
      });
      t.diagnostic(`+20 ms, network-rtt off: ${note(off)}`);
      assert.equal(off.outputs.verdict, 'regression', 'judged end to end, the RTT change reads as a slowdown');
      assert.equal(off.outputs['network-rtt-ms'], '');

      await host.setBehaviour({ mode: 'sleep', ms: 25 });
      // A closed loop is judged on service time at any RTT at or above the history's (25 ms here);
      // paced at a fixed rate, at any RTT: 2 ms, below the history's 5, for the second case.
      await host.setRttMs(load === 'closed loop' ? 25 : 2);
      const slower = await runBundle({ inputs: inputsFor(key, extra), eventName: 'pull_request', event: PULL_REQUEST });
      t.diagnostic(`+25 % service time: ${note(slower)}`);
      assert.equal(slower.outputs.verdict, 'regression', note(slower));
      assert.equal((slower.report?.decision as { latencyBasis?: string } | undefined)?.latencyBasis, 'service-time');
      assert.ok(Number(slower.outputs['median-change']) > 15, `median-change ${slower.outputs['median-change']}`);
    });
  }

  it('the two load regimes, measured: a CPU-bound 2 ms handler, 4 connections, at RTT 4 and 24 ms', async (t) => {
    await host.setBehaviour({ mode: 'cpu', ms: 2 });
    const figures: Record<string, { p50: number; rtt: number; service: number; rps: number; busy: number }> = {};
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    for (const [regime, rate] of [
      ['closed', undefined],
      ['rate', 100],
    ] as const) {
      for (const rttMs of [4, 24]) {
        await host.setRttMs(rttMs);
        // Three bursts, their medians: one burst's RTT is the median of its 15 handshakes only.
        const bursts = await runSeries({ load: oneBurst({ rate, bursts: 3 }), probeRtt: true }, 3, 0);
        const rps = median(bursts.map((burst) => burst.requestsPerSec));
        const figure = {
          p50: median(bursts.map((burst) => burst.p50)),
          rtt: median(bursts.map((burst) => burst.rtt!.medianMs!)),
          service: median(bursts.map((burst) => serviceTimeOf(burst.p50, burst.rtt!.medianMs!, 0.5, burst.newConnectionShare))),
          rps,
          // The handler's share of its one core: requests a second × 2 ms.
          busy: (rps * 2) / 1000,
        };
        figures[`${regime}@${rttMs}`] = figure;
        t.diagnostic(
          `${regime}, RTT ${rttMs}: client p50 ${figure.p50.toFixed(2)} ms, RTT ${figure.rtt.toFixed(2)} ms, service p50 ${figure.service.toFixed(2)} ms, ${rps.toFixed(0)} req/s, handler busy ${(100 * figure.busy).toFixed(0)} %`,
        );
      }
    }
    const all = JSON.stringify(figures);
    // Closed loop: the RTT sets the arrival rate. At 4 ms the handler is saturated and requests
    // queue behind each other; at 24 ms the connections spend their time in flight and the queue empties.
    assert.ok(figures['closed@4'].busy > 0.75 && figures['closed@24'].busy < 0.4, all);
    assert.ok(figures['closed@4'].service > figures['closed@24'].service + 0.5, all);
    // `rate` is an open loop (load/pace-requests.ts): 100 evenly spaced arrivals a second whatever
    // the RTT (autocannon's own per-second budget sent 132 and 114 req/s in these bursts), so the
    // handler is as busy, and service time the same, at both.
    for (const rttMs of [4, 24]) assert.ok(Math.abs(figures[`rate@${rttMs}`].rps - 100) < 5, all);
    assert.ok(Math.abs(figures['rate@24'].service - figures['rate@4'].service) < 1, all);
  });

  it('a server that closes every connection: each request paid a handshake too, and service time stays put as the RTT grows', async (t) => {
    await host.setBehaviour({ mode: 'sleep', ms: 20, close: true });
    const load = oneBurst();
    const seen: Record<number, { p50: number; service: number; share: number }> = {};
    for (const rttMs of [5, 25]) {
      await host.setRttMs(rttMs);
      const [burst] = await runSeries({ load, probeRtt: true }, 1, 0);
      const rtt = burst.rtt!.medianMs!;
      seen[rttMs] = {
        p50: burst.p50,
        service: serviceTimeOf(burst.p50, rtt, 0.5, burst.newConnectionShare),
        share: burst.newConnectionShare!,
      };
      t.diagnostic(
        `RTT ${rttMs}: p50 ${burst.p50.toFixed(2)} ms, RTT ${rtt.toFixed(2)} ms, new connections ${burst.newConnectionShare}, service ${seen[rttMs].service.toFixed(2)} ms`,
      );
    }
    for (const { share, service } of Object.values(seen)) {
      assert.ok(share > 0.95, `share of requests on a new connection ${share}`);
      assert.ok(service > 19 && service < 23, `service time ${service} ms for a 20 ms handler`);
    }
    // Two round trips a request: 20 ms more RTT is 40 ms more latency, and none of it service time.
    assert.ok(seen[25].p50 - seen[5].p50 > 36, JSON.stringify(seen));
    assert.ok(Math.abs(seen[25].service - seen[5].service) < 2, JSON.stringify(seen));
  });

  it('overhead at RTT 25 ms: the probe before the first burst and the probes in a burst add ≤ 300 ms to a run', async (t) => {
    await host.setBehaviour({ mode: 'sleep', ms: 20 });
    await host.setRttMs(25);
    const load = oneBurst({ durationMs: 1000 });
    const started = performance.now();
    const before = await probeNow(rttTargetOf(host.url));
    const beforeMs = performance.now() - started;
    const timed = async (probeRtt: boolean) => {
      const start = performance.now();
      const [burst] = await runSeries({ load, probeRtt }, 1, 0);
      return { ms: performance.now() - start, rps: burst.requestsPerSec };
    };
    const runs = [];
    for (let i = 0; i < 3; i += 1) runs.push({ on: await timed(true), off: await timed(false) });
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[1];
    const addedPerBurst = median(runs.map((r) => r.on.ms)) - median(runs.map((r) => r.off.ms));
    const rpsRatio = median(runs.map((r) => r.on.rps)) / median(runs.map((r) => r.off.rps));
    t.diagnostic(
      `probe before the first burst: ${beforeMs.toFixed(0)} ms (median RTT ${before.medianMs} ms); per burst added ${addedPerBurst.toFixed(0)} ms; throughput ratio ${rpsRatio.toFixed(3)}`,
    );
    assert.equal(before.samples, 3);
    assert.ok(beforeMs < 300, `before: ${beforeMs} ms`);
    assert.ok(addedPerBurst < 50, `per burst: ${addedPerBurst} ms`);
    assert.ok(rpsRatio > 0.95, `throughput ratio ${rpsRatio}`);
  });
});

describe('an HTTPS target through the delay line (10.213.13.2)', { timeout: 300_000 }, () => {
  let remote: DelayedPort;
  let server: ReturnType<typeof createHttpsServer>;
  let dir: string;
  before(async () => {
    const { key, cert } = selfSignedCertificate();
    // A 20 ms handler that closes every connection, as gunicorn's sync workers serving TLS do:
    // each request pays the TCP handshake, the TLS 1.3 handshake and itself, three round trips.
    server = createHttpsServer({ key, cert, minVersion: 'TLSv1.3' }, (_request, response) => {
      response.setHeader('Connection', 'close');
      setTimeout(() => response.end('ok'), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    remote = await delayedPort('lgh13tls', '10.213.13', 8443, { host: '127.0.0.1', port: (server.address() as AddressInfo).port }, 5);
    dir = await mkdtemp(join(tmpdir(), 'loadgate-tls-'));
  });
  after(async () => {
    await remote?.close();
    server?.closeAllConnections();
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('history at RTT 5 ms, the same build at 25 ms: the TLS handshake comes off service time too, and it passes', async (t) => {
    const inputs = {
      url: `${remote.origin.replace('http:', 'https:')}/`,
      // The throwaway certificate is self-signed: the check before the load would refuse it.
      'tls-verify': 'false',
      connections: '4',
      duration: '3s',
      bursts: '5',
      warmup: '500ms',
      'baseline-store': 'file',
      'baseline-path': join(dir, 'baseline.json'),
      comment: 'never',
      // Far below the +80 % a TLS round trip left in service time would show, far above what the
      // delay line leaves in it (below): the default 10 % failed one CI run at +12.3 %.
      'max-median-increase': '30%',
      'max-p95-increase': '30%',
    };
    const recorded = await runBundle({ inputs, eventName: 'push', event: PUSH_TO_MAIN });
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    // TCP and TLS 1.3, two round trips per connection (one opened as a burst ended may not finish TLS).
    const bursts = (recorded.report?.bursts ?? []) as Array<{ handshakeRoundTrips?: number; newConnectionShare?: number }>;
    assert.ok(
      bursts.length >= 3 && bursts.every((burst) => Math.abs(burst.handshakeRoundTrips! - 2) < 0.05 && burst.newConnectionShare! > 0.95),
      JSON.stringify(bursts),
    );
    t.diagnostic(
      `RTT 5: p50 ${recorded.outputs['median-ms']} ms, RTT ${recorded.outputs['network-rtt-ms']} ms, service ${recorded.outputs['service-median-ms']} ms`,
    );
    // Above the handler's 20 ms: both TLS handshakes' own CPU on this 2-core machine, and the forwarders.
    const serviceAt5 = Number(recorded.outputs['service-median-ms']);
    assert.ok(serviceAt5 > 19 && serviceAt5 < 30, `service p50 ${serviceAt5} ms`);

    await remote.setRttMs(25);
    const farther = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    t.diagnostic(
      `RTT 25: p50 ${farther.outputs['median-ms']} ms, RTT ${farther.outputs['network-rtt-ms']} ms, service ${farther.outputs['service-median-ms']} ms: ${farther.report?.headline}`,
    );
    // Three round trips a request: 20 ms more RTT is 60 ms more latency, none of it service time.
    assert.ok(Number(farther.outputs['median-ms']) - Number(recorded.outputs['median-ms']) > 52, farther.outputs['median-ms']);
    // Measured with 4 connections: service p50 24.3–25.8 ms at 5, 26.0–28.1 ms at 25 (+1.0 to +3.2 ms;
    // with 1 connection +0.3 ms). The rise is not the service's: timed in the server, the handler
    // took 20.3–20.6 ms at both. The TCP handshake alone taken off would leave the TLS handshake's
    // extra 20 ms in it: a bound of 8 ms fails that and holds the rise.
    assert.ok(Math.abs(Number(farther.outputs['service-median-ms']) - serviceAt5) < 8, farther.outputs['service-median-ms']);
    assert.equal(farther.outputs.verdict, 'pass', farther.stdout);
    assert.equal((farther.report?.decision as { latencyBasis?: string } | undefined)?.latencyBasis, 'service-time');
  });

  it('paced (rate 20): a reconnect is done before its send slot, so only the request’s round trip comes off', async (t) => {
    await remote.setRttMs(5);
    const inputs = {
      url: `${remote.origin.replace('http:', 'https:')}/`,
      // The throwaway certificate is self-signed: the check before the load would refuse it.
      'tls-verify': 'false',
      connections: '4',
      rate: '20',
      duration: '3s',
      bursts: '5',
      warmup: '500ms',
      'baseline-store': 'file',
      'baseline-path': join(dir, 'paced-baseline.json'),
      comment: 'never',
      'max-p95-increase': '30%',
    };
    const recorded = await runBundle({ inputs, eventName: 'push', event: PUSH_TO_MAIN });
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    await remote.setRttMs(25);
    const farther = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    const [at5, at25] = [recorded, farther].map((run) => Number(run.outputs['service-median-ms']));
    t.diagnostic(
      `service p50 ${at5} ms at RTT ${recorded.outputs['network-rtt-ms']}, ${at25} ms at ${farther.outputs['network-rtt-ms']}: ${farther.report?.headline}`,
    );
    // Counted as paid, the handshakes' 2 round trips came off too: 9.6 ms at RTT 5 and 0 at 25 (measured).
    assert.ok(at5 > 19 && at5 < 26, `service p50 ${at5} ms at RTT 5 for a 20 ms handler`);
    assert.ok(Math.abs(at25 - at5) < 3, `service p50 ${at25} ms at RTT 25`);
    assert.equal(farther.outputs.verdict, 'pass', farther.stdout);
  });
});
