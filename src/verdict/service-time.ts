// Service time: a latency less the network round trip, and which of the two a stored-baseline
// verdict judges. Pure.
//
// Definition. A keep-alive request pays one round trip (request out, response back) on top of the
// service's own time. A request written on a new connection before its handshakes complete pays
// them too (closed-loop, autocannon writes a reconnect's first request at once; paced, it usually
// waits for its slot until they are done): its latency holds the TCP handshake, one round trip,
// and over HTTPS the TLS handshake, one more (TLS 1.3) or two (a full TLS 1.2 one): h round trips
// in all, counted per connection by load/count-handshakes.ts (a server that closes every connection, such as gunicorn's
// sync workers, makes that every request: measured through the delay line on the 1 GiB VM, service
// time rose by exactly the RTT's rise when only one round trip was taken off). The burst's RTT is
// the median of the TCP handshakes spread over the burst (the typical round trip a request met,
// not the best one). For each percentile X of a burst, with s the share of requests written behind
// a new connection's handshakes (BurstFigures.newConnectionShare) and h their mean round trips
// (BurstFigures.handshakeRoundTrips, 1 when not counted):
//   service pX = max(0, pX − k·(burst RTT median)), k = 1 + h when s > 1 − X, else 1
// (the requests that paid the handshakes are the slowest by h round trips: p50 holds one when
// more than half did, p95 when more than 5 % did). A run's service figure is the median over its
// bursts, like every other run figure.
//
// Which figure is judged, when this run and every compared run have RTT figures. Under a fixed
// `connections` (closed loop) each connection waits for its answer before sending again, so the
// RTT sets the arrival rate and with it the service's queueing. A longer round trip can only
// lower the arrival rate, so service time cannot rise with it (saturated, it falls: client latency
// stays connections ÷ throughput, whatever the RTT); a shorter round trip can only shorten the
// client's cycle, so end-to-end latency cannot rise with it. Judge service time when this run's
// RTT is at least the shortest the compared runs cover (their shortest, less a quarter of their
// range: adjustment.ts REACH): above the history's RTTs a longer round trip can only lower it, and
// within them whatever the service's regime made of the RTT is in the history's own spread already
// (and verdict/adjustment.ts takes it out when the history's service time tracks the RTT, as a
// saturated service's does). Below every stored run's RTT, end-to-end latency: neither figure can
// then show the network's change as a slowdown, saturated or not. The price: when the RTT fell
// below all the history's, a slowdown smaller than the fall is hidden.
// Under a fixed `rate` the sends are paced (load/pace-requests.ts): the arrivals, and with them
// the queueing, do not depend on the RTT, so service time is judged at any RTT. That holds while
// each connection's answer comes within its send interval (connections ÷ rate); a connection that
// falls behind sends on its answers, as a closed loop does.
// Otherwise (no RTT on one side, `network-rtt: off`, A/B mode) end-to-end latency, as before.

import type { HistoryBurst } from '../baseline/history.ts';
import { coveredRange } from './adjustment.ts';
import { median } from './statistics.ts';
import { milliseconds } from './wording.ts';

export type LatencyBasis = 'service-time' | 'end-to-end';

export interface BasisChoice {
  basis: LatencyBasis;
  /** Why, in one sentence for the report. */
  reason: string;
  /** This run's and the history's RTT (median of burst medians), when both had one. */
  currentRttMs?: number;
  historyRttMs?: number;
}

/**
 * A latency at `percentile` (0.5 for p50) less the round trips its requests paid, never below zero
 * (a round trip measured slower than a request).
 */
export function serviceTimeOf(
  latencyMs: number,
  rttMs: number,
  percentile: number,
  newConnectionShare = 0,
  handshakeRoundTrips = 1,
): number {
  const roundTrips = newConnectionShare > 1 - percentile ? 1 + handshakeRoundTrips : 1;
  return Math.max(0, latencyMs - roundTrips * rttMs);
}

/**
 * The burst with its judged latencies (p50, p95) as service times; undefined when it has no RTT.
 * p99 stays end to end: it is shown for information, beside this run's end-to-end p99.
 */
export function serviceBurstOf(burst: HistoryBurst): HistoryBurst | undefined {
  if (burst.rttMs === undefined) return undefined;
  const { newConnectionShare: share, handshakeRoundTrips: handshakes } = burst;
  return {
    ...burst,
    p50: serviceTimeOf(burst.p50, burst.rttMs, 0.5, share, handshakes),
    p95: serviceTimeOf(burst.p95, burst.rttMs, 0.95, share, handshakes),
  };
}

/** The median of the bursts' RTTs; undefined unless every burst has one. */
export function runRttOf(bursts: readonly HistoryBurst[]): number | undefined {
  if (bursts.length === 0 || bursts.some((burst) => burst.rttMs === undefined)) return undefined;
  return median(bursts.map((burst) => burst.rttMs!));
}

/** A run's latency bursts as stored (historyBurstOf) and their RTT (runRttOf), as the basis choice reads them. */
export interface TimedBursts {
  latency: readonly HistoryBurst[];
  rttMs?: number;
}

/**
 * The figure the stored-baseline verdict judges. `current` is this run, `history` the runs it is
 * compared with and their RTT (the median of the runs', when every run has one); verdict/reduce-run.ts
 * reduces both.
 */
export function chooseBasis(
  current: TimedBursts,
  history: { runs: readonly TimedBursts[]; rttMs?: number },
  openLoop = false,
): BasisChoice {
  const currentRttMs = current.rttMs;
  if (currentRttMs === undefined) {
    return { basis: 'end-to-end', reason: 'Judged on end-to-end latency: this run has no network RTT figures.' };
  }
  const historyRttMs = history.rttMs;
  if (historyRttMs === undefined) {
    return { basis: 'end-to-end', reason: 'Judged on end-to-end latency: the stored runs have no network RTT figures.', currentRttMs };
  }
  const historyRtts = history.runs.map((run) => run.rttMs!);
  const rtts = `network RTT ${milliseconds(currentRttMs)} now, ${milliseconds(historyRttMs)} in the history`;
  const storedBursts = history.runs.flatMap((run) => run.latency);
  if ([...current.latency, ...storedBursts].some((burst) => burst.rttMs! >= burst.p50)) {
    // On loopback or a LAN a handshake costs more than a keep-alive request: the difference would
    // clamp to zero and hide any slowdown.
    return {
      basis: 'end-to-end',
      reason: `Judged on end-to-end latency (${rtts}): a handshake took as long as a median request, so latency − RTT says nothing here.`,
      currentRttMs,
      historyRttMs,
    };
  }
  if (openLoop) {
    return {
      basis: 'service-time',
      reason: `Judged on service time (latency − network RTT; ${rtts}): at a fixed \`rate\` the arrivals do not depend on the round trip.`,
      currentRttMs,
      historyRttMs,
    };
  }
  // The shortest round trip the history covers (adjustment.ts may extrapolate a little beyond it).
  const shortest = Math.max(0, coveredRange(historyRtts).low);
  if (currentRttMs >= shortest) {
    return {
      basis: 'service-time',
      reason:
        currentRttMs >= historyRttMs
          ? `Judged on service time (latency − network RTT; ${rtts}): a longer round trip can only lower it.`
          : `Judged on service time (latency − network RTT; ${rtts}): within the round trips the history covers (from ${milliseconds(shortest)}).`,
      currentRttMs,
      historyRttMs,
    };
  }
  return {
    basis: 'end-to-end',
    reason:
      `Judged on end-to-end latency (${rtts}, shorter than any stored run's): a shorter round trip can raise the service's queueing, ` +
      'never the client latency, so a slowdown smaller than the RTT fall is hidden.',
    currentRttMs,
    historyRttMs,
  };
}
