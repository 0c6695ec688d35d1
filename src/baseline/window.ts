// The stored runs a new run is judged against: the newest healthy runs that measured latency, of
// those stored with this run's load signature. Chosen once per run (the pipeline), and read by
// every rule and figure that compares with the history: latency, service memory, host speed, the
// network RTT, the baseline's latency curve. Pure.

import type { HistoryRun } from './history.ts';

/** How many of the newest comparable runs a stored baseline reads. */
export const HISTORY_WINDOW_RUNS = 20;

export interface BaselineWindow {
  /** The runs compared with, oldest first. */
  runs: readonly HistoryRun[];
  /** Comparable runs left out as unhealthy (host trouble) or without a 2xx response. */
  leftOut: number;
}

const measuredLatency = (run: HistoryRun) => run.bursts.some((burst) => burst.ok > 0);

export function baselineWindow(comparable: readonly HistoryRun[], limit = HISTORY_WINDOW_RUNS): BaselineWindow {
  const usable = comparable.filter((run) => run.healthy && measuredLatency(run));
  return { runs: usable.slice(-limit), leftOut: comparable.length - usable.length };
}
