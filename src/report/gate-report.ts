// Everything one run measured and decided, as one JSON-ready object. The pipeline fills it; the
// table, comment, summary and outputs are all rendered from it (also by `comment-from`, which
// reads it back from a file written by an earlier workflow).

import { redactedUrl } from '../config/redact-url.ts';
import type { LoadSettings, Settings } from '../config/settings.ts';
import type { RunContext } from '../config/run-context.ts';
import type { BurstResult } from '../load/measurement.ts';
import type { RunFigures } from '../verdict/run-figures.ts';
import type { HostReport } from '../target/session.ts';
import type { Decision, Verdict } from '../verdict/decision.ts';
import type { BurstHostHealth } from '../watch/health.ts';
import type { HostRunSummary } from '../watch/host-summary.ts';
import type { HostMachine } from '../watch/machine.ts';
import type { NetworkSummary } from './network-summary.ts';
import type { HostSpeedFigures } from '../verdict/host-speed-rule.ts';

export const REPORT_SCHEMA = 'loadgate-report';
export const REPORT_VERSION = 1;

/** The settings a reader needs to interpret the figures; never credentials (URLs are redacted). */
export interface PublicSettings
  extends Pick<
    LoadSettings,
    'url' | 'method' | 'connections' | 'durationMs' | 'bursts' | 'warmupMs' | 'pipelining' | 'timeoutMs' | 'loadProcesses'
  > {
  rate: number | null;
  abUrl: string | null;
  host: string | null;
  maxMedianIncrease: number;
  maxP95Increase: number;
  maxErrorRate: number;
  p95BudgetMs: number | null;
  baselineStore: string;
  baselineKey: string;
}

export interface LatencyCurve {
  percentiles: readonly number[];
  candidate: number[];
  baseline?: number[];
}

export interface BaselineSummary {
  /** `file .loadgate/baseline.json`, `branch loadgate-baseline`, `live A/B`, or `none`. */
  location: string;
  /** Comparable runs the decision used. */
  runs: number;
  /** Settings that differ from the stored baseline's, when they made the run incomparable. */
  configDifferences: string[];
  /** Whether this run was appended to the history, and why not. */
  recorded: boolean;
  recordNote: string;
}

/** The stored baseline's host, when it was watched: `fingerprint` is its machine. */
export interface StoredBaselineHost {
  run?: HostRunSummary;
  fingerprint?: HostMachine;
}

export interface GateReport {
  schema: typeof REPORT_SCHEMA;
  version: typeof REPORT_VERSION;
  name: string;
  verdict: Verdict;
  headline: string;
  startedAt: string;
  finishedAt: string;
  /** `headSha` is the PR's head commit (on a PR, `sha` is GitHub's test merge commit). */
  context: Pick<RunContext, 'eventName' | 'ref' | 'sha' | 'headSha' | 'pullRequestNumber' | 'runUrl'>;
  settings: PublicSettings;
  figures?: RunFigures;
  bursts: BurstResult[];
  curve?: LatencyCurve;
  baseline: BaselineSummary;
  decision?: Decision;
  /** The target host, when `host` was set: its identity and swap, and each burst's health. */
  host?: HostReport & { bursts: BurstHostHealth[]; storedBaseline?: StoredBaselineHost };
  /** The network round trip and service time (`network-rtt: auto`); absent in older reports. */
  network?: NetworkSummary;
  /** The host's speed index against the history's (`host-speed-probe: auto`); absent in older reports. */
  hostSpeed?: HostSpeedFigures;
  /** Set when the run failed before or while measuring: what happened, in words. */
  error?: string;
}

export function publicSettings(settings: Settings): PublicSettings {
  const { load, gate, baseline } = settings;
  return {
    url: redactedUrl(load.url),
    method: load.method,
    connections: load.connections,
    durationMs: load.durationMs,
    bursts: load.bursts,
    warmupMs: load.warmupMs,
    pipelining: load.pipelining,
    timeoutMs: load.timeoutMs,
    rate: load.rate ?? null,
    loadProcesses: load.loadProcesses,
    abUrl: baseline.abUrl === undefined ? null : redactedUrl(baseline.abUrl),
    host: settings.ssh ? `${settings.ssh.host}:${settings.ssh.port}` : null,
    maxMedianIncrease: gate.maxMedianIncrease,
    maxP95Increase: gate.maxP95Increase,
    maxErrorRate: gate.maxErrorRate,
    p95BudgetMs: gate.p95BudgetMs ?? null,
    baselineStore: baseline.abUrl ? 'live A/B' : baseline.store,
    baselineKey: baseline.key,
  };
}

/** Exit status the action and the CLI end with. */
export function exitCodeFor(verdict: Verdict, gate: { failOnRegression: boolean; failOnInconclusive: boolean }): 0 | 1 {
  if (verdict === 'error') return 1;
  if (verdict === 'regression') return gate.failOnRegression ? 1 : 0;
  if (verdict === 'inconclusive') return gate.failOnInconclusive ? 1 : 0;
  return 0;
}
