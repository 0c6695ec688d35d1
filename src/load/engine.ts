// Turns a burst request into a BurstResult: runs the burst (in this process, or on
// `loadProcesses` child processes), then derives every figure from the merged microsecond
// histogram and the counters.

import type { BurstResult, BurstTarget } from './measurement.ts';
import { measureBurstInProcess, type BurstSample, type BurstSpec } from './burst.ts';
import { mergeHistograms, summarizeLatency, encodeHistogram } from './histogram.ts';
import { measureBurstInProcesses } from './processes.ts';

export interface BurstRequest {
  /** `loadProcesses` above 1 splits the burst over that many child processes. */
  spec: BurstSpec & { loadProcesses?: number };
  index: number;
  target: BurstTarget;
}

export function combineSamples(samples: readonly BurstSample[], request: BurstRequest, startedAt: Date): BurstResult {
  const merged = mergeHistograms(samples.map((s) => s.histogram));
  const latency = summarizeLatency(merged);
  const histogram = encodeHistogram(merged);
  merged.destroy();
  const sum = (pick: (s: BurstSample) => number) => samples.reduce((total, s) => total + pick(s), 0);
  const ok = sum((s) => s.ok);
  const non2xx = sum((s) => s.non2xx);
  const errors = sum((s) => s.errors);
  const timeouts = sum((s) => s.timeouts);
  const wallMs = Math.max(...samples.map((s) => s.wallMs));
  const attempted = ok + non2xx + errors + timeouts;
  const behindHandshakes = sum((s) => s.requestsBehindHandshakes);
  return {
    index: request.index,
    target: request.target,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(wallMs),
    p50: latency.p50,
    p90: latency.p90,
    p95: latency.p95,
    p99: latency.p99,
    p999: latency.p999,
    max: latency.max,
    mean: latency.mean,
    requestsPerSec: wallMs > 0 ? ((ok + non2xx) * 1000) / wallMs : 0,
    ok,
    non2xx,
    errors,
    timeouts,
    errorRate: attempted > 0 ? (non2xx + errors + timeouts) / attempted : 0,
    newConnectionShare: attempted > 0 ? Math.min(1, behindHandshakes / attempted) : 0,
    ...(behindHandshakes > 0 && { handshakeRoundTrips: sum((s) => s.handshakeRoundTrips) / behindHandshakes }),
    // Each process has one core; the busiest one decides whether we measured ourselves.
    generatorCpu: Math.max(...samples.map((s) => (s.wallMs > 0 ? s.cpuMs / s.wallMs : 0))),
    histogram,
  };
}

export async function runBurst(request: BurstRequest): Promise<BurstResult> {
  const startedAt = new Date();
  const processes = request.spec.loadProcesses ?? 1;
  const samples = processes > 1 ? await measureBurstInProcesses(request.spec, processes) : [await measureBurstInProcess(request.spec)];
  return combineSamples(samples, request, startedAt);
}
