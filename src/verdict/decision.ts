// What the verdict tells the pipeline and the report, and the one question the pipeline asks of
// a first verdict: should it measure more before failing?

export type Verdict = 'pass' | 'regression' | 'inconclusive' | 'error';

/**
 * history: ≥ 5 past runs, noise band and percent limit; cold-start: 1–4 runs, percent limit only;
 * no-history: nothing stored yet; ab: baseline measured live; none: `baseline-store: none`.
 */
export type DecisionMode = 'history' | 'cold-start' | 'no-history' | 'ab' | 'none';

export type ComparedMetric = 'p50' | 'p95' | 'p99' | 'requestsPerSec' | 'errorRate' | 'serviceMemory' | 'memoryHeadroom' | 'swapIn';

export type ComparisonStatus = 'ok' | 'regression' | 'improved' | 'inconclusive' | 'info';

export interface Comparison {
  metric: ComparedMetric;
  /** Same unit as `current`: ms for latencies, req/s, a fraction for the error rate and headroom, MB for memory, MB/s for swap-in. */
  baseline?: number;
  current: number;
  /** current / baseline − 1. */
  change?: number;
  /** "+15%", "+15%, ≤ 250 ms", "≤ 1%", or "" for info rows. */
  limit: string;
  status: ComparisonStatus;
  reasoning: string;
}

export interface Decision {
  verdict: Verdict;
  mode: DecisionMode;
  /** One line for the check title, e.g. "p95 +18.2% over baseline". */
  headline: string;
  comparisons: Comparison[];
  warnings: string[];
  notes: string[];
  /** True when this decision already covers the confirmation bursts. */
  confirmed: boolean;
  /** True when the target crashed under load: more bursts would not change the verdict. */
  crashed: boolean;
  /** Stored mode with `network-rtt: auto`: whether p50/p95 were judged as service time or end to end. */
  latencyBasis?: 'service-time' | 'end-to-end';
  /** Stored mode: the smallest p50 slowdown this history lets the gate flag in 95 % of runs (a fraction). */
  minDetectableChange?: number;
}

/**
 * Confirm before failing: a first regression or inconclusive verdict is re-decided on all bursts
 * after K more. Returns false once confirmed, after a crash, and for a pass or an error.
 */
export function needsConfirmation(decision: Decision): boolean {
  if (decision.confirmed || decision.crashed) return false;
  return decision.verdict === 'regression' || decision.verdict === 'inconclusive';
}
