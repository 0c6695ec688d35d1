// The order of bursts in a run: a discarded warmup, then K measured bursts. In A/B mode the
// bursts alternate baseline and candidate (ABAB…) so drift on the host hits both equally.

import type { LoadSettings } from '../config/settings.ts';
import { runBurst, type BurstRequest } from './engine.ts';
import type { BurstResult, BurstTarget } from './measurement.ts';
import { probeDuring, rttTargetOf } from './rtt-probe.ts';

/** Lets the host watch bracket every measured burst. */
export interface BurstObserver {
  beforeBurst(index: number, target: BurstTarget): Promise<void>;
  afterBurst(result: BurstResult): Promise<void>;
}

export interface SeriesPlan {
  load: LoadSettings;
  /** A/B mode: the baseline build's URL. */
  abUrl?: string;
  /** Measure the network round trip during every burst (`network-rtt: auto`). */
  probeRtt?: boolean;
}

function requestFor(plan: SeriesPlan, index: number, target: BurstTarget, durationMs: number): BurstRequest {
  const url = target === 'baseline' && plan.abUrl ? plan.abUrl : plan.load.url;
  return { spec: { ...plan.load, url, durationMs }, index, target };
}

/** The targets of each round of bursts: the candidate, and in A/B mode the baseline first. */
export function targetsOf(plan: SeriesPlan): BurstTarget[] {
  return plan.abUrl ? ['baseline', 'candidate'] : ['candidate'];
}

/** Warms every target once (JIT, caches, connection pools); the results are discarded. */
export async function warmUp(plan: SeriesPlan): Promise<void> {
  if (plan.load.warmupMs <= 0) return;
  for (const target of targetsOf(plan)) {
    await runBurst(requestFor(plan, -1, target, plan.load.warmupMs));
  }
}

/** Runs `count` bursts per target, numbered from `firstIndex`. */
export async function runSeries(plan: SeriesPlan, count: number, firstIndex: number, observer?: BurstObserver): Promise<BurstResult[]> {
  const results: BurstResult[] = [];
  let index = firstIndex;
  for (let round = 0; round < count; round += 1) {
    for (const target of targetsOf(plan)) {
      await observer?.beforeBurst(index, target);
      const request = requestFor(plan, index, target, plan.load.durationMs);
      const result = plan.probeRtt ? await burstWithRtt(request) : await runBurst(request);
      await observer?.afterBurst(result);
      results.push(result);
      index += 1;
    }
  }
  return results;
}

/** The burst with handshakes to its URL's host:port spread over it, from this (the runner's) side. */
export async function burstWithRtt(request: BurstRequest): Promise<BurstResult> {
  const burstEnded = new AbortController();
  const probe = probeDuring(rttTargetOf(request.spec.url), request.spec.durationMs, burstEnded.signal);
  try {
    const result = await runBurst(request);
    burstEnded.abort();
    return { ...result, rtt: await probe };
  } finally {
    burstEnded.abort();
  }
}
