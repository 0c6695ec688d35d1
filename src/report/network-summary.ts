// The network round trip of a run and its service time (latency less the RTT, defined in
// verdict/service-time.ts), for the table, the outputs and the report file: the figures the
// verdict read (verdict/reduce-run.ts), rounded. Pure.

import type { RttFigures } from '../load/rtt-probe.ts';
import type { LiveFigures, StoredFigures } from '../verdict/reduce-run.ts';

export interface NetworkSummary {
  /** The handshakes before the first burst. */
  before?: RttFigures;
  /** Median over this run's candidate bursts of each burst's median RTT; undefined when none measured one. */
  rttMs?: number;
  /** The smallest handshake of the run. */
  rttMinMs?: number;
  /** Median over bursts of (burst p50 − burst RTT), and the same for p95. */
  serviceMedianMs?: number;
  serviceP95Ms?: number;
  /** The compared stored runs' RTT (median of their runs' figures), when every one has it. */
  historyRttMs?: number;
  /** Handshakes during the bursts, and how many of them failed (refused, timed out). */
  probes: number;
  failedProbes: number;
  failure?: string;
}

const round3 = (ms: number) => Number(ms.toFixed(3));

export function networkSummaryOf(
  /** This run's candidate figures. */
  candidate: LiveFigures,
  /** The baseline window's figures (baseline/window.ts), in stored mode. */
  stored: StoredFigures | undefined,
  before: RttFigures | undefined,
): NetworkSummary | undefined {
  const rtt = candidate.rtt;
  if (before === undefined && rtt === undefined) return undefined;
  const service = candidate.service;
  const failure = rtt?.failure ?? before?.failure;
  return {
    ...(before && { before }),
    ...(rtt?.medianMs !== undefined && { rttMs: round3(rtt.medianMs) }),
    ...(rtt?.minMs !== undefined && { rttMinMs: rtt.minMs }),
    ...(service && { serviceMedianMs: round3(service.p50), serviceP95Ms: round3(service.p95) }),
    ...(stored?.rttMs !== undefined && { historyRttMs: round3(stored.rttMs) }),
    probes: rtt?.probes ?? 0,
    failedProbes: rtt?.failed ?? 0,
    ...(failure && { failure }),
  };
}
