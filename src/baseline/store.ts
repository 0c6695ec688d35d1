// Where baseline histories live. The pipeline only sees this interface; `file` and `branch`
// implement it, `none` is the absence of a store.

import type { HistoryRun } from './history.ts';

export interface BaselineStore {
  /** Where the history lives, for the report (e.g. `branch loadgate-baseline`). */
  readonly location: string;
  /** The key's runs, oldest first; empty when there is no baseline yet. */
  read(key: string): Promise<HistoryRun[]>;
  /** Appends one run to the key's history; never loses a run written concurrently. */
  append(key: string, run: HistoryRun): Promise<void>;
}
