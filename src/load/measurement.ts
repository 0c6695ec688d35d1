// What one load burst measured. Latencies are milliseconds (floats) from our own microsecond HDR
// histogram of 2xx responses; the histogram itself travels along so bursts and runs can be merged.

import type { LatencySummary } from './histogram.ts';
import type { RttFigures } from './rtt-probe.ts';

export type BurstTarget = 'candidate' | 'baseline';

/** Latencies (ms) from the histogram, then the counters. */
export interface BurstFigures extends Omit<LatencySummary, 'count'> {
  requestsPerSec: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** (non2xx + errors + timeouts) / all requests sent. */
  errorRate: number;
  /** Our own process's CPU time over wall time: near 1 means we measured the generator. */
  generatorCpu: number;
  /** The network round trip measured during the burst (TCP handshakes); absent with `network-rtt: off`. */
  rtt?: RttFigures;
  /**
   * Share of the requests sent whose latency holds a new connection's handshakes (written before
   * they completed, load/count-handshakes.ts): about 1 when the server closes every connection
   * (gunicorn's sync workers) under a closed loop, near 0 with keep-alive or when `rate` leaves
   * the reconnect time to finish. Absent in results from before it was counted.
   */
  newConnectionShare?: number;
  /**
   * Round trips of those handshakes, on average: 1 for TCP, 2 with TLS 1.3 on top, 3 with a full
   * TLS 1.2 handshake; less when requests were written part-way through them (paced, a connection
   * opened as the burst began). Absent when no request waited for one, and in results from before it was
   * counted (then read as 1).
   */
  handshakeRoundTrips?: number;
}

export interface BurstResult extends BurstFigures {
  index: number;
  /** `baseline` only in A/B mode, where bursts alternate between the two URLs. */
  target: BurstTarget;
  startedAt: string;
  durationMs: number;
  /** Compressed base64 HDR histogram of 2xx latencies in microseconds. */
  histogram: string;
}
