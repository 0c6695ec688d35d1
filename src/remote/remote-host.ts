// What the rest of loadgate may do with the target host. The SSH module implements it; swap,
// lock and host watch only see this interface, so they never touch ssh2 directly.

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the server never sent an exit status: callers treat that as failure. */
  code: number | null;
}

export interface ExecOptions {
  /** Run through sudo unless already root (`sudo -n`, or `sudo -S` with the configured password). */
  sudo?: boolean;
  /** Written to the command's stdin (after the sudo password when one is used). */
  stdin?: string;
}

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
  spawn(command: string, options?: ExecOptions): RemoteProcess;
  /** Registers a listener for a dropped connection (after which every call rejects). */
  onDisconnect(listener: (error: Error) => void): void;
  close(): Promise<void>;
}
