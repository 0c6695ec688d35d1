// What a run measured, reduced once to figures keyed by what they measured: its load bursts (the
// candidate's and, in A/B mode, the live baseline's), its host speed index and the stored baseline
// window. The latency rules, the host speed rule and the report read these figures; none of them
// recomputes a run figure, a service time or an RTT. Pure.

import type { HistoryBurst, HistoryRun } from '../baseline/history.ts';
import { historyBurstOf } from '../baseline/history.ts';
import type { BurstResult, BurstTarget } from '../load/measurement.ts';
import type { BaselineSource } from './decide.ts';
import { hostSpeedFigures, type HostSpeedFigures } from './host-speed-rule.ts';
import { runFigures, type RunFigures } from './run-figures.ts';
import { runRttOf, serviceBurstOf, type TimedBursts } from './service-time.ts';
import { median } from './statistics.ts';

/**
 * The endpoint of a run's one load target. A name, not the URL: both sides of an A/B run measure
 * it (at two URLs), and a name holds no credential. A workload of several endpoints names each.
 */
export const DEFAULT_ENDPOINT = 'default';

/**
 * What a set of figures measured: an endpoint, on the candidate build or its baseline (live A/B
 * bursts or the stored window). A load shape with steps (a rate ramp) adds its step here.
 */
export interface FigureKey {
  endpoint: string;
  side: BurstTarget;
}

/** One burst that measured latency (some 2xx responses). */
export interface LatencyBurst {
  /** As measured, ms: what end-to-end judgements read. */
  p50: number;
  p95: number;
  /** What a stored run keeps of the burst (historyBurstOf): service time is computed on this, as for a stored burst. */
  stored: HistoryBurst;
  /** `stored` with p50 and p95 as service time (verdict/service-time.ts); undefined without an RTT. */
  service?: HistoryBurst;
}

export interface PooledErrors {
  /** Failed requests over all requests of the bursts: the error rate the gate judges. */
  rate: number;
  failed: number;
  requests: number;
}

/** Bursts measured in this run, on one side of one endpoint. */
export interface LiveFigures {
  source: 'live';
  key: FigureKey;
  /** How many bursts, with or without 2xx responses. */
  bursts: number;
  /** The bursts that measured latency, in order. */
  latency: readonly LatencyBurst[];
  /** Medians over bursts: latencies over `latency`, requests/s over every burst; undefined with none. */
  median: { p50?: number; p95?: number; p99?: number; requestsPerSec?: number };
  /** p50 and p95 as service time: the median over the latency bursts with an RTT; undefined when none has one. */
  service?: { p50: number; p95: number };
  errors: PooledErrors;
  /** Every figure's median over every burst (run-figures.ts): the report's `figures`. */
  run: RunFigures;
  /** The latency bursts as the basis choice reads them (verdict/service-time.ts). */
  timed: TimedBursts;
  /** The RTT probes beside the bursts; undefined when none was probed (`network-rtt: off`). */
  rtt?: {
    /** Median of the latency bursts' RTTs, of those that have one. */
    medianMs?: number;
    /** The smallest handshake of any burst. */
    minMs?: number;
    probes: number;
    failed: number;
    /** The first failure's reason. */
    failure?: string;
  };
}

/** One stored run's figures: medians over its bursts, latencies over those with 2xx responses. */
export interface StoredRunMedians {
  p50: number;
  p95: number;
  p99: number;
  requestsPerSec: number;
  errorRate: number;
}

export interface StoredRunFigures extends TimedBursts {
  sha: string;
  time: string;
  hostSpeedMbps?: number;
  endToEnd: StoredRunMedians;
  /** `endToEnd` with p50 and p95 as service time; undefined unless every latency burst has an RTT. */
  service?: StoredRunMedians;
}

/** The stored baseline window (baseline/window.ts), run by run. */
export interface StoredFigures {
  source: 'stored';
  key: FigureKey;
  /** Oldest first. */
  runs: readonly StoredRunFigures[];
  /** Comparable runs the window left out (unhealthy, or without latency). */
  leftOut: number;
  /** Median of the runs' RTTs, when every run has one. */
  rttMs?: number;
}

export type KeyedFigures = LiveFigures | StoredFigures;

/** One endpoint's two sides, as a decision reads them. */
export interface EndpointFigures {
  candidate: LiveFigures;
  /** Undefined with no baseline (`baseline-store: none`, or the settings changed). */
  baseline?: KeyedFigures;
}

export interface ReducedRun {
  figures: readonly KeyedFigures[];
  /** The run's host speed index against the window's; undefined without a probe. */
  hostSpeed?: HostSpeedFigures;
}

export interface ReductionInput {
  /** Every load burst of the run, both sides. */
  bursts: readonly BurstResult[];
  baseline: BaselineSource;
  /** The run's host speed index (watch/host-speed.ts, host-speed-rule.ts runHostSpeedOf). */
  hostSpeedMbps?: number;
}

const hasLatency = (burst: { ok: number }) => burst.ok > 0;

function pooledErrors(bursts: readonly BurstResult[]): PooledErrors {
  const failed = bursts.reduce((sum, b) => sum + b.non2xx + b.errors + b.timeouts, 0);
  const requests = bursts.reduce((sum, b) => sum + b.ok, failed);
  return { rate: requests > 0 ? failed / requests : 0, failed, requests };
}

const medianOrUndefined = (values: readonly number[]) => (values.length ? median(values) : undefined);

function rttOf(bursts: readonly BurstResult[], latency: readonly LatencyBurst[]): LiveFigures['rtt'] {
  if (bursts.every((burst) => burst.rtt === undefined)) return undefined;
  const mins = bursts.flatMap((burst) => (burst.rtt?.minMs === undefined ? [] : [burst.rtt.minMs]));
  const medians = latency.flatMap((burst) => (burst.stored.rttMs === undefined ? [] : [burst.stored.rttMs]));
  const failure = bursts.find((burst) => burst.rtt?.failure)?.rtt?.failure;
  return {
    ...(medians.length > 0 && { medianMs: median(medians) }),
    ...(mins.length > 0 && { minMs: Math.min(...mins) }),
    probes: bursts.reduce((sum, burst) => sum + (burst.rtt ? burst.rtt.samples + burst.rtt.failed : 0), 0),
    failed: bursts.reduce((sum, burst) => sum + (burst.rtt?.failed ?? 0), 0),
    ...(failure && { failure }),
  };
}

/** One burst with 2xx responses as the reduction reads it: as measured, as stored, and as service time where its RTT is known. */
export function latencyBurstOf(burst: BurstResult): LatencyBurst {
  const stored = historyBurstOf(burst);
  const service = serviceBurstOf(stored);
  return { p50: burst.p50, p95: burst.p95, stored, ...(service && { service }) };
}

function liveFigures(key: FigureKey, bursts: readonly BurstResult[]): LiveFigures {
  const measured = bursts.filter(hasLatency);
  const latency = measured.map(latencyBurstOf);
  const serviced = latency.flatMap((burst) => (burst.service ? [burst.service] : []));
  const stored = latency.map((burst) => burst.stored);
  const rtt = rttOf(bursts, latency);
  return {
    source: 'live',
    key,
    bursts: bursts.length,
    latency,
    median: {
      p50: medianOrUndefined(latency.map((burst) => burst.p50)),
      p95: medianOrUndefined(latency.map((burst) => burst.p95)),
      p99: medianOrUndefined(measured.map((burst) => burst.p99)),
      requestsPerSec: medianOrUndefined(bursts.map((burst) => burst.requestsPerSec)),
    },
    ...(serviced.length > 0 && {
      service: { p50: median(serviced.map((burst) => burst.p50)), p95: median(serviced.map((burst) => burst.p95)) },
    }),
    errors: pooledErrors(bursts),
    run: runFigures(bursts),
    timed: { latency: stored, rttMs: runRttOf(stored) },
    ...(rtt && { rtt }),
  };
}

/** A stored run's medians; its latency bursts are at least one (baseline/window.ts). */
function storedRunMedians(bursts: readonly HistoryBurst[], latency: readonly HistoryBurst[]): StoredRunMedians {
  return {
    p50: median(latency.map((burst) => burst.p50)),
    p95: median(latency.map((burst) => burst.p95)),
    p99: median(latency.map((burst) => burst.p99)),
    requestsPerSec: median(bursts.map((burst) => burst.requestsPerSec)),
    errorRate: median(bursts.map((burst) => burst.errorRate)),
  };
}

/** A run's medians with p50 and p95 as service time. */
function serviceMedians(endToEnd: StoredRunMedians, service: readonly HistoryBurst[]): StoredRunMedians {
  return { ...endToEnd, p50: median(service.map((burst) => burst.p50)), p95: median(service.map((burst) => burst.p95)) };
}

function storedRunFigures(run: HistoryRun): StoredRunFigures {
  const latency = run.bursts.filter(hasLatency);
  const rttMs = runRttOf(latency);
  const endToEnd = storedRunMedians(run.bursts, latency);
  return {
    sha: run.sha,
    time: run.time,
    ...(run.hostSpeedMbps !== undefined && { hostSpeedMbps: run.hostSpeedMbps }),
    latency,
    ...(rttMs !== undefined && { rttMs }),
    endToEnd,
    ...(rttMs !== undefined && {
      service: serviceMedians(
        endToEnd,
        latency.map((burst) => serviceBurstOf(burst)!),
      ),
    }),
  };
}

function storedFigures(key: FigureKey, window: Extract<BaselineSource, { kind: 'history' }>['window']): StoredFigures {
  const runs = window.runs.map(storedRunFigures);
  const rtts = runs.map((run) => run.rttMs);
  return {
    source: 'stored',
    key,
    runs,
    leftOut: window.leftOut,
    ...(rtts.length > 0 && rtts.every((rtt) => rtt !== undefined) && { rttMs: median(rtts as number[]) }),
  };
}

export function reduceRun(input: ReductionInput): ReducedRun {
  const endpoint = DEFAULT_ENDPOINT;
  const side = (target: BurstTarget) => input.bursts.filter((burst) => burst.target === target);
  const figures: KeyedFigures[] = [liveFigures({ endpoint, side: 'candidate' }, side('candidate'))];
  if (input.baseline.kind === 'ab') figures.push(liveFigures({ endpoint, side: 'baseline' }, side('baseline')));
  if (input.baseline.kind === 'history') figures.push(storedFigures({ endpoint, side: 'baseline' }, input.baseline.window));
  const window = input.baseline.kind === 'history' ? input.baseline.window.runs : [];
  const hostSpeed = hostSpeedFigures(input.hostSpeedMbps, window);
  return { figures, ...(hostSpeed && { hostSpeed }) };
}

/** One endpoint's figures, candidate and baseline. */
export function endpointFigures(run: ReducedRun, endpoint = DEFAULT_ENDPOINT): EndpointFigures {
  const of = (side: BurstTarget) => run.figures.find((figures) => figures.key.endpoint === endpoint && figures.key.side === side);
  const candidate = of('candidate');
  if (candidate?.source !== 'live') throw new Error(`no candidate bursts for endpoint ${endpoint}`);
  return { candidate, baseline: of('baseline') };
}
