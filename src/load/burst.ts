// One load burst in this process: autocannon drives the requests, our microsecond histogram
// records 2xx latencies from its `response` event. autocannon's own percentiles are not used.

import autocannon from 'autocannon';
import type { LoadSettings } from '../config/settings.ts';
import { createLatencyHistogram, encodeHistogram } from './histogram.ts';
import { countHandshakes, emptyHandshakeTally } from './count-handshakes.ts';
import { honourConnectionClose } from './honour-connection-close.ts';
import { paceRequests } from './pace-requests.ts';

/** What one process measured in one burst; processes' samples merge exactly. */
export interface BurstSample {
  histogram: string;
  ok: number;
  non2xx: number;
  /** Connection errors (refused, reset, dropped); timeouts are not among them. */
  errors: number;
  timeouts: number;
  wallMs: number;
  cpuMs: number;
  /** Connections opened, the first ones included (count-handshakes.ts). */
  connections: number;
  /** Requests written before their connection's handshakes completed, and those handshakes' round trips. */
  requestsBehindHandshakes: number;
  handshakeRoundTrips: number;
}

/** How late a burst may end; autocannon's per-tick request counts are not used. */
const SAMPLE_INTERVAL_MS = 100;

export type BurstSpec = Pick<LoadSettings, 'url' | 'method' | 'headers' | 'body' | 'connections' | 'pipelining' | 'timeoutMs' | 'rate'> & {
  durationMs: number;
};

export async function measureBurstInProcess(spec: BurstSpec): Promise<BurstSample> {
  const histogram = createLatencyHistogram();
  const handshakes = emptyHandshakeTally();
  const honour = honourConnectionClose();
  const count = countHandshakes(handshakes);
  const pacer = spec.rate === undefined ? undefined : paceRequests(spec.rate, spec.connections);
  // Without a callback autocannon returns its instance, an event emitter that is also a promise.
  const instance = autocannon({
    url: spec.url,
    method: spec.method as autocannon.Request['method'],
    headers: spec.headers,
    body: spec.body,
    connections: spec.connections,
    pipelining: spec.pipelining,
    timeout: spec.timeoutMs / 1000,
    duration: spec.durationMs / 1000,
    // autocannon ends a burst on its sampling tick: at the default 1 s a 1500 ms burst runs 2 s.
    sampleInt: SAMPLE_INTERVAL_MS,
    excludeErrorStats: true,
    // pace-requests.ts, not autocannon's `overallRate`, keeps the rate: evenly spaced sends.
    setupClient: (client) => {
      honour(client);
      count(client);
      pacer?.setupClient(client);
    },
  }) as Promise<autocannon.Result> & autocannon.Instance;
  let ok = 0;
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode < 200 || statusCode > 299) return;
    ok += 1;
    const latencyUs = Math.max(1, Math.round(responseTimeMs * 1000));
    if (pacer) {
      // Open-loop: a response slower than the send interval delayed the requests behind it;
      // HDR back-fills the ones the closed connection could not send (coordinated omission).
      histogram.recordValueWithExpectedInterval(latencyUs, Math.round(pacer.intervalMs * 1000));
    } else {
      histogram.recordValue(latencyUs);
    }
  });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await instance;
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const sample: BurstSample = {
    histogram: encodeHistogram(histogram),
    ok,
    non2xx: result.non2xx,
    // autocannon counts a timeout among its errors too.
    errors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    connections: handshakes.connections,
    requestsBehindHandshakes: handshakes.requestsBehindHandshakes,
    handshakeRoundTrips: handshakes.roundTrips,
  };
  histogram.destroy();
  return sample;
}
