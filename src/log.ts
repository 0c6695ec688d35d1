// Progress messages from any stage. The action routes them to @actions/core (which masks
// registered secrets); the CLI and tests route them to stderr or an array.

export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export const silentLog: Log = { info() {}, warning() {}, debug() {} };
