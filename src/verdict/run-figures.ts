// A run's figure for a metric is the median of its bursts' values: one slow burst (a GC pause,
// a noisy neighbour) moves it less than a mean or a pooled percentile would.

import { median } from './statistics.ts';

export interface RunFigures {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  requestsPerSec: number;
  errorRate: number;
}

const RUN_METRICS = ['p50', 'p90', 'p95', 'p99', 'requestsPerSec', 'errorRate'] as const satisfies readonly (keyof RunFigures)[];

export function runFigures(bursts: readonly RunFigures[]): RunFigures {
  const figures = {} as RunFigures;
  for (const metric of RUN_METRICS) figures[metric] = median(bursts.map((burst) => burst[metric]));
  return figures;
}
