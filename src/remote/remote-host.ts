// What the rest of loadgate may do with the target host. The SSH module implements it; swap,
// lock and host watch only see this interface, so they never touch ssh2 directly.

export interface ExecResult {
  /** The last OUTPUT_TAIL_BYTES of what the command wrote to stdout (whole lines once any was dropped). */
  stdout: string;
  /** Likewise for stderr. */
  stderr: string;
  /** null when the server never sent an exit status: callers treat that as failure. */
  code: number | null;
  /** Present when the command wrote more than the tails kept: the bytes dropped before them, both streams. */
  droppedBytes?: number;
}

export interface SpawnOptions {
  /** Run through sudo unless already root (`sudo -n`, or `sudo -S` with the configured password). */
  sudo?: boolean;
}

export interface ExecOptions extends SpawnOptions {
  /** Written to the command's stdin (after the sudo password when one is used). */
  stdin?: string;
  /**
   * How long the command may run; then it and every process it started are ended on the target
   * and exec rejects naming it. Default DEFAULT_EXEC_TIME_LIMIT_MS.
   */
  timeLimitMs?: number;
}

/** Bytes of each output stream exec keeps, its last ones: a log tail of some ten thousand lines. */
export const OUTPUT_TAIL_BYTES = 1024 * 1024;

/**
 * For the short commands (reading /proc, the kernel log, swap, the service): as long as the
 * keepalives give a host thrashing before an OOM kill to answer at all.
 */
export const DEFAULT_EXEC_TIME_LIMIT_MS = 60_000;

/** A long-running remote command (sampler, lock holder) whose output arrives as it is written. */
export interface RemoteProcess {
  /** Called with each complete line the command writes to stdout. */
  onLine(listener: (line: string) => void): void;
  /**
   * Resolves with the exit code once the command ends (null if the link dropped); rejects with a
   * TargetError when the command could not start (sudo refused, connection already lost).
   */
  readonly exited: Promise<number | null>;
  /** Ends the command and every process it started (the transport signals its whole process group). */
  stop(): Promise<void>;
}

export interface RemoteHost {
  readonly isRoot: boolean;
  /** The host key's `SHA256:…` fingerprint, as `ssh-keygen -lf` prints it. */
  readonly hostKeyFingerprint: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * No time limit (it runs until stop()) and no output kept: each line, cut at OUTPUT_TAIL_BYTES
   * characters, goes to the listeners as it comes.
   */
  spawn(command: string, options?: SpawnOptions): RemoteProcess;
  /** Registers a listener for a dropped connection (after which every call rejects). */
  onDisconnect(listener: (error: Error) => void): void;
  close(): Promise<void>;
}
