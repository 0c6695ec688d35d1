// The network round trip of a run and its service time (latency less the RTT, defined in
// verdict/service-time.ts), for the table, the outputs and the report file. Pure.

import type { HistoryRun } from '../baseline/history.ts';
import type { BurstResult } from '../load/measurement.ts';
import type { RttFigures } from '../load/rtt-probe.ts';
import { runRttOf, serviceTimeOf } from '../verdict/service-time.ts';
import { median } from '../verdict/statistics.ts';

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
  bursts: readonly BurstResult[],
  /** The baseline window's runs (baseline/window.ts). */
  window: readonly HistoryRun[],
  before: RttFigures | undefined,
): NetworkSummary | undefined {
  const candidate = bursts.filter((burst) => burst.target === 'candidate');
  if (before === undefined && candidate.every((burst) => burst.rtt === undefined)) return undefined;
  const timed = candidate.filter((burst) => burst.ok > 0 && burst.rtt?.medianMs !== undefined);
  const serviceOf = (metric: 'p50' | 'p95') =>
    timed.length
      ? round3(
          median(
            timed.map((burst) =>
              serviceTimeOf(
                burst[metric],
                burst.rtt!.medianMs!,
                metric === 'p50' ? 0.5 : 0.95,
                burst.newConnectionShare,
                burst.handshakeRoundTrips,
              ),
            ),
          ),
        )
      : undefined;
  const mins = candidate.flatMap((burst) => (burst.rtt?.minMs === undefined ? [] : [burst.rtt.minMs]));
  const historyRtts = window.map((run) => runRttOf(run.bursts.filter((burst) => burst.ok > 0)));
  const failure = candidate.find((burst) => burst.rtt?.failure)?.rtt?.failure ?? before?.failure;
  return {
    ...(before && { before }),
    ...(timed.length > 0 && { rttMs: round3(median(timed.map((burst) => burst.rtt!.medianMs!))) }),
    ...(mins.length > 0 && { rttMinMs: Math.min(...mins) }),
    ...(timed.length > 0 && { serviceMedianMs: serviceOf('p50'), serviceP95Ms: serviceOf('p95') }),
    ...(historyRtts.length > 0 &&
      historyRtts.every((rtt) => rtt !== undefined) && { historyRttMs: round3(median(historyRtts as number[])) }),
    probes: candidate.reduce((sum, burst) => sum + (burst.rtt ? burst.rtt.samples + burst.rtt.failed : 0), 0),
    failedProbes: candidate.reduce((sum, burst) => sum + (burst.rtt?.failed ?? 0), 0),
    ...(failure && { failure }),
  };
}
