// Progress messages from any stage. The action routes them to @actions/core (which masks
// registered secrets) and its phases to collapsible groups; the CLI to stderr, with a live line on
// a terminal; tests to an array.

export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  /**
   * Runs `work` as one phase of the run (connect, warmup, bursts…): a collapsible group in the
   * runner's log, the phase of the CLI's live line. The phase ends when `work` settles, thrown or not.
   */
  phase<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Where the current phase stands (`step`, e.g. "burst 3/5") and about how long it has left. */
  progress(leftMs: number, step?: string): void;
}

/**
 * `Log.phase` from a start and an end: the end always follows the start, and a phase begun inside
 * another joins it (the runner's groups do not nest).
 */
export function flatPhases(start: (name: string) => void, end: () => void): Log['phase'] {
  let open = false;
  return async (name, work) => {
    if (open) return work();
    open = true;
    start(name);
    try {
      return await work();
    } finally {
      open = false;
      end();
    }
  };
}

export const silentLog: Log = { info() {}, warning() {}, debug() {}, phase: (_name, work) => work(), progress() {} };
