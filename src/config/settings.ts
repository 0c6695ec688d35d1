// The one typed settings object every stage reads. Built once by `parseInputs` from raw inputs;
// nothing downstream reads inputs or the environment again.

export type SwapMode = 'verify' | 'configure' | 'off';
export type BaselineStoreKind = 'branch' | 'file' | 'none';
export type UpdateBaseline = 'auto' | 'true' | 'false';
export type CommentMode = 'always' | 'on-regression' | 'never';
/** auto: measure the RTT to the target during every burst and judge stored baselines on service time. */
export type NetworkRttMode = 'auto' | 'off';

export interface LoadSettings {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  connections: number;
  durationMs: number;
  bursts: number;
  warmupMs: number;
  pipelining: number;
  timeoutMs: number;
  /** Fixed overall request rate (req/s); undefined means closed loop. */
  rate?: number;
  /** Child processes sharing the connections, for targets faster than one core can load. */
  loadProcesses: number;
  /** Parsed settings always have it; settings built by hand without it measure no RTT. */
  networkRtt?: NetworkRttMode;
  /**
   * `tls-verify`: the check before any load verifies an https target's certificate. The load
   * itself cannot (autocannon connects with rejectUnauthorized: false).
   */
  tlsVerify: boolean;
}

export interface SshSettings {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  passphrase?: string;
  /** Pinned `SHA256:…` fingerprints; any one matching is enough. */
  fingerprints: string[];
  /** known_hosts lines for the target. */
  knownHosts: string[];
  insecureSkipHostKeyCheck: boolean;
  sudoPassword?: string;
}

/** `2G` is an absolute size; `2x` is a multiple of the target's MemTotal. */
export type SwapSize = { bytes: number } | { multipleOfMemory: number };

export interface SwapSettings {
  mode: SwapMode;
  size: SwapSize;
  path: string;
  persist: boolean;
}

export interface LockSettings {
  enabled: boolean;
  timeoutMs: number;
}

export interface WatchSettings {
  logsCommand?: string;
  /** `service-match` or `service-unit`: the service whose own memory is gated. */
  service?: ServiceSelector;
  /** `baseline-service-match`: the baseline deployment's processes, for live A/B memory. */
  baselineService?: ServiceSelector;
  /** `host-speed-probe: auto`: time a fixed CPU workload on the host before each burst. */
  speedProbe?: boolean;
  /** `max-cpu-steal` in percent. */
  maxStealPercent: number;
}

export interface GateSettings {
  /** Fractions: 0.1 is 10 %. */
  maxMedianIncrease: number;
  maxP95Increase: number;
  maxErrorRate: number;
  p95BudgetMs?: number;
  failOnRegression: boolean;
  failOnInconclusive: boolean;
}

/** Limits on the service's own memory and the host's; they apply only when `host` is set. */
export interface MemoryGateSettings {
  /** A fraction, like the latency limits: the run's peak service memory over the baseline's. */
  maxMemoryIncrease: number;
  /** The host's lowest MemAvailable during the bursts, as a share of MemTotal. */
  minMemoryHeadroom: number;
  /** MB/s swapped in, the median over bursts; undefined: swap-in is reported, never a regression. */
  maxSwapInMbPerSec?: number;
}

export interface BaselineSettings {
  store: BaselineStoreKind;
  branch: string;
  path: string;
  key: string;
  update: UpdateBaseline;
  /** A/B mode: the baseline build is measured live, alternating with `url`. */
  abUrl?: string;
}

export interface ReportSettings {
  githubToken?: string;
  comment: CommentMode;
  name: string;
  /** Post a previously written report JSON instead of measuring. */
  commentFrom?: string;
}

export interface Settings {
  load: LoadSettings;
  /** Present only when `host` is set. */
  ssh?: SshSettings;
  swap: SwapSettings;
  lock: LockSettings;
  watch: WatchSettings;
  gate: GateSettings;
  memoryGate: MemoryGateSettings;
  baseline: BaselineSettings;
  report: ReportSettings;
  /**
   * Credentials inside `url` and `baseline-url` (userinfo, query values) and the values of
   * credential headers (`Authorization`, `Cookie`, …): masked before anything runs.
   */
  secrets: string[];
}

/** How loadgate finds the service's processes on the host (`service-match` / `service-unit`). */
export type ServiceSelector = { kind: 'match'; pattern: string } | { kind: 'unit'; unit: string };
