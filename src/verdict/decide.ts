// The verdict: this run's figures against a baseline's (stored history, live A/B bursts, or none),
// the gate's limits, and what the host watch saw. The latency, throughput and error rows judge one
// endpoint's figures (verdict/reduce-run.ts); crashes, host trouble and confirmation are the run's.
// Pure: the pipeline measures, stores and reports.

import type { GateSettings } from '../config/settings.ts';
import type { HistoryRun } from '../baseline/history.ts';
import { baselineWindow, type BaselineWindow } from '../baseline/window.ts';
import type { Comparison, ComparisonStatus, Decision, DecisionMode, Verdict } from './decision.ts';
import {
  AB_SIGNIFICANCE,
  COLD_START_RUNS,
  judgeAB,
  judgeAgainstHistory,
  logOf,
  type LatencyJudgement,
  type LatencyMetric,
} from './latency-rules.ts';
import { adjustHistory, type Adjustment, type Covariate } from './adjustment.ts';
import { findChangePoints, levelChangeFloor, type ChangePoint } from './change-points.ts';
import type { EndpointFigures, LiveFigures, StoredFigures, StoredRunFigures, StoredRunMedians } from './reduce-run.ts';
import { chooseBasis, type BasisChoice } from './service-time.ts';
import { median } from './statistics.ts';
import { count, milliseconds, plainPercent, runs, signedPercent } from './wording.ts';

export type BaselineSource =
  /** The stored runs compared with (baseline/window.ts). */
  | { kind: 'history'; window: BaselineWindow }
  /** Baseline bursts are among the run's bursts, with target 'baseline'. */
  | { kind: 'ab' }
  | { kind: 'none' };

export interface DecisionInput {
  /** The figures of the endpoint judged, both sides (verdict/reduce-run.ts); no baseline side with `baseline-store: none`. */
  figures: EndpointFigures;
  gate: GateSettings;
  /** Host trouble that makes a slowdown untrustworthy, e.g. "CPU steal 12%". */
  environmentIssues?: string[];
  /** The target died under load, e.g. "the kernel killed gunicorn (pid 812)". */
  crashes?: string[];
  /** Set when the figures include confirmation bursts: what the first bursts alone gave. */
  confirmation?: { firstVerdict: Verdict; firstBursts: number; allBursts: number };
  /** Set with `network-rtt: auto`: a stored baseline may be judged on service time (verdict/service-time.ts). */
  networkRtt?: boolean;
  /** Load paced at a fixed `rate` (load/pace-requests.ts): the arrivals do not depend on the RTT. */
  openLoop?: boolean;
  /** This run's host speed index (MB/s, watch/host-speed.ts): with the stored runs' own, it may adjust the history. */
  hostSpeedMbps?: number;
}

interface Row extends Comparison {
  /** Headline form of a regression or inconclusive row. */
  phrase?: string;
}

const SEVERITY: Record<ComparisonStatus, number> = { info: 0, ok: 0, improved: 0, inconclusive: 1, regression: 2 };
const LATENCY_METRICS: LatencyMetric[] = ['p50', 'p95'];
const INFO_METRICS = ['p99', 'requestsPerSec'] as const;

type Figure = keyof StoredRunMedians;

/** The baseline's side of the comparison, whatever its source. */
interface BaselineView {
  mode: DecisionMode;
  /** The baseline's figure for a metric, undefined when it has none. */
  figure(metric: Figure): number | undefined;
  /** Judges this run's latency (at least one burst) on a latency metric; `note` says how the history was adjusted. */
  judge?(metric: LatencyMetric, current: CurrentLatency, maxIncrease: number): LatencyJudgement & { note?: string };
  /** Why latency cannot be compared although a baseline exists. */
  unusable?: string;
  context: string;
  notes: string[];
  warnings: string[];
}

/** A stored baseline of past runs of the same baseline-key and load signature, oldest first. */
export function historySource(comparable: readonly HistoryRun[], limit?: number): Extract<BaselineSource, { kind: 'history' }> {
  return { kind: 'history', window: baselineWindow(comparable, limit) };
}

/** This run's latency on the basis judged: the median over bursts and each burst's figure. */
interface CurrentLatency {
  figure: Record<LatencyMetric, number | undefined>;
  bursts: Record<LatencyMetric, number[]>;
}

/** A stored run with its figures on the basis judged. */
type JudgedRun = Omit<StoredRunFigures, 'endToEnd' | 'service'> & { figures: StoredRunMedians };

/** What the history's runs and this run measured besides latency, for adjustHistory. */
function covariatesOf(window: readonly JudgedRun[], basis: BasisChoice | undefined, hostSpeedMbps: number | undefined): Covariate[] {
  const covariates: Covariate[] = [
    {
      name: 'host speed',
      history: window.map((run) => (run.hostSpeedMbps === undefined ? undefined : Math.log(run.hostSpeedMbps))),
      current: hostSpeedMbps === undefined ? undefined : Math.log(hostSpeedMbps),
    },
  ];
  // Service time tracks the RTT only when the service is saturated (verdict/service-time.ts).
  if (basis?.basis === 'service-time') {
    covariates.push({
      name: 'network RTT',
      history: window.map((run) => run.rttMs),
      current: basis.currentRttMs,
    });
  }
  return covariates;
}

function adjustmentNote(metric: LatencyMetric, adjustment: Adjustment, levelMoved: boolean): string {
  const what = adjustment.used.map((c) => c.name).join(' and ');
  const { without, with: adjusted } = adjustment.heldOutError;
  const before = levelMoved ? ' and the runs before the change to its level' : '';
  return (
    `The history's ${metric} tracks the ${what}: adjusted to this run's${before} (predicting a held-out run ` +
    `${plainPercent(Number(Math.expm1(without).toFixed(3)))} → ${plainPercent(Number(Math.expm1(adjusted).toFixed(3)))} off).`
  );
}

/**
 * The newest change of level in the window's p50 or p95 (verdict/change-points.ts), whichever moved
 * last. Looked for in the history as adjusted on host speed and RTT, when they explain it: on a
 * host whose CPU share or round trip varies run to run, that variation hides a change of level.
 */
function lastLatencyChange(
  window: readonly JudgedRun[],
  covariates: Covariate[],
  gate: GateSettings,
): { metric: LatencyMetric; point: ChangePoint } | undefined {
  let last: { metric: LatencyMetric; point: ChangePoint } | undefined;
  for (const metric of LATENCY_METRICS) {
    const logs = window.map((run) => logOf(run.figures[metric]));
    const minMagnitude = levelChangeFloor(maxIncreaseOf(metric, gate));
    const point = findChangePoints(adjustHistory(logs, covariates)?.logs ?? logs, { minMagnitude }).at(-1);
    if (point && point.index > (last?.point.index ?? 0)) last = { metric, point };
  }
  return last;
}

function changeNote(window: readonly JudgedRun[], change: { metric: LatencyMetric; point: ChangePoint }, coldStart: boolean): string {
  const since = window.length - change.point.index;
  const commit = window[change.point.index]!.sha.slice(0, 7);
  const how = coldStart ? ' as a cold start (percent limits only)' : '';
  return (
    `The history changed ${runs(since)} ago, at commit ${commit}, ${signedPercent(change.point.relativeChange)} on ${change.metric}: ` +
    `judged against those ${runs(since)}${how}, not the ${runs(change.point.index)} before.`
  );
}

function historyView(stored: StoredFigures, gate: GateSettings, basis?: BasisChoice, hostSpeedMbps?: number): BaselineView {
  const judgedRuns = stored.runs.map(
    ({ endToEnd, service, ...run }): JudgedRun => ({
      ...run,
      figures: basis?.basis === 'service-time' ? service! : endToEnd,
    }),
  );
  // A history whose level moved is judged against the runs since the move: the centre of a window
  // that spans a change is neither level.
  const change = lastLatencyChange(judgedRuns, covariatesOf(judgedRuns, basis, hostSpeedMbps), gate);
  const window = judgedRuns.slice(change?.point.index ?? 0);
  const notes: string[] = [];
  if (stored.leftOut > 0) notes.push(`${runs(stored.leftOut)} in the history left out as unhealthy or without latency figures.`);
  if (window.length > 0 && basis) notes.push(basis.reason);
  if (change) notes.push(changeNote(judgedRuns, change, window.length < COLD_START_RUNS));
  if (window.length === 0) {
    notes.push('No baseline yet: this run was measured and reported, not compared. A run on the default branch stores one.');
    return { mode: 'no-history', figure: () => undefined, context: 'no baseline yet', notes, warnings: [] };
  }
  const runFigures = (metric: Figure) => window.map((run) => run.figures[metric]);
  const coldStart = window.length < COLD_START_RUNS;
  notes.push(
    coldStart
      ? `Cold start: the history has ${runs(window.length)}; its spread needs ${COLD_START_RUNS}, so only the percent limits apply.`
      : `Baseline: the last ${window.length} healthy runs (${window[0].time} to ${window[window.length - 1].time}).`,
  );
  const levelFrom = change?.point.index ?? 0;
  // Adjusted, every run of the window serves (see adjustHistory's levelFrom); unadjusted, only the newest level's.
  const adjusted = (metric: LatencyMetric) =>
    coldStart
      ? undefined
      : adjustHistory(
          judgedRuns.map((run) => logOf(run.figures[metric])),
          covariatesOf(judgedRuns, basis, hostSpeedMbps),
          { levelFrom },
        );
  return {
    mode: coldStart ? 'cold-start' : 'history',
    figure: (metric) => median(runFigures(metric)),
    judge: (metric, current, maxIncrease) => {
      const figures = runFigures(metric);
      const adjustment = adjusted(metric);
      const judged = adjustment
        ? judgeAgainstHistory(metric, adjustment.logs.map(Math.exp), current.figure[metric] ?? 0, maxIncrease, adjustment.fit)
        : judgeAgainstHistory(metric, figures, current.figure[metric] ?? 0, maxIncrease);
      return adjustment ? { ...judged, note: adjustmentNote(metric, adjustment, levelFrom > 0) } : judged;
    },
    context: coldStart ? `cold start, ${runs(window.length)}` : runs(window.length),
    notes,
    warnings: [],
  };
}

function abView(baseline: LiveFigures, candidateCount: number): BaselineView {
  const latency = baseline.latency;
  const warnings: string[] = [];
  if (latency.length > 0 && candidateCount > 0 && smallestExactP(latency.length, candidateCount) >= AB_SIGNIFICANCE) {
    warnings.push(
      `With ${latency.length} baseline and ${candidateCount} candidate bursts the rank test cannot reach p < ${AB_SIGNIFICANCE}, so A/B mode cannot fail the check: use at least 4 bursts.`,
    );
  }
  return {
    mode: 'ab',
    figure: (metric) => (metric === 'errorRate' ? baseline.errors.rate : baseline.median[metric]),
    judge: latency.length
      ? (metric, current, maxIncrease) =>
          judgeAB(
            metric,
            latency.map((b) => b[metric]),
            current.bursts[metric],
            maxIncrease,
          )
      : undefined,
    unusable: latency.length ? undefined : 'the baseline-url gave no 2xx responses, so there is nothing to compare with',
    context: `${latency.length} vs ${candidateCount} bursts`,
    notes: [
      `A/B: ${baseline.bursts} baseline-url and ${candidateCount} candidate bursts, alternating; one-sided Mann–Whitney U on per-burst logs and a seeded bootstrap 95% CI of the ratio of medians.`,
    ],
    warnings,
  };
}

/** The exact one-sided Mann–Whitney p of fully separated samples of n and m: 1 / C(n + m, n). */
function smallestExactP(n: number, m: number): number {
  let combinations = 1;
  for (let k = 1; k <= n; k++) combinations = (combinations * (m + k)) / k;
  return 1 / combinations;
}

function noneView(): BaselineView {
  return {
    mode: 'none',
    figure: () => undefined,
    context: 'not compared',
    notes: ['baseline-store is none: measured and reported, not compared.'],
    warnings: [],
  };
}

function viewOf(input: DecisionInput, candidateCount: number, basis?: BasisChoice): BaselineView {
  const baseline = input.figures.baseline;
  if (baseline === undefined) return noneView();
  if (baseline.source === 'stored') return historyView(baseline, input.gate, basis, input.hostSpeedMbps);
  return abView(baseline, candidateCount);
}

const maxIncreaseOf = (metric: LatencyMetric, gate: GateSettings) => (metric === 'p50' ? gate.maxMedianIncrease : gate.maxP95Increase);

function latencyRow(
  metric: LatencyMetric,
  judged: LatencyJudgement | undefined,
  view: BaselineView,
  value: number | undefined,
  gate: GateSettings,
): Row {
  if (value === undefined) return { metric, current: 0, limit: '', status: 'info', reasoning: 'no 2xx responses were measured' };
  const row: Row = judged
    ? {
        metric,
        baseline: judged.baseline,
        current: value,
        change: judged.change,
        limit: `+${plainPercent(maxIncreaseOf(metric, gate))}`,
        status: judged.status,
        reasoning: judged.reasoning,
        phrase: judged.phrase,
      }
    : {
        metric,
        current: value,
        limit: '',
        status: 'info',
        reasoning: `${metric} ${milliseconds(value)}, ${view.unusable ?? view.context}`,
      };
  const budget = metric === 'p95' ? gate.p95BudgetMs : undefined;
  if (budget === undefined) return row;
  const overBudget = value > budget;
  return {
    ...row,
    limit: [row.limit, `≤ ${milliseconds(budget)}`].filter(Boolean).join(', '),
    status: overBudget ? 'regression' : row.status === 'info' ? 'ok' : row.status,
    reasoning: `${row.reasoning}; ${milliseconds(value)} ${overBudget ? 'over' : 'within'} the ${milliseconds(budget)} budget`,
    phrase: overBudget ? `p95 ${milliseconds(value)} over the ${milliseconds(budget)} budget` : row.phrase,
  };
}

function infoRow(metric: (typeof INFO_METRICS)[number], view: BaselineView, candidate: LiveFigures): Row {
  const current = candidate.median[metric] ?? 0;
  const baseline = view.figure(metric);
  const change = baseline ? current / baseline - 1 : undefined;
  const shown = metric === 'p99' ? `p99 ${milliseconds(current)}` : `${count(Math.round(current))} requests/s`;
  return {
    metric,
    baseline,
    current,
    change,
    limit: '',
    status: 'info',
    reasoning: `${shown}${change === undefined ? '' : ` (${signedPercent(change)})`}, for information`,
  };
}

function errorRateRow(view: BaselineView, candidate: LiveFigures, gate: GateSettings): Row {
  const { rate, failed, requests } = candidate.errors;
  const over = rate > gate.maxErrorRate;
  return {
    metric: 'errorRate',
    baseline: view.figure('errorRate'),
    current: rate,
    limit: `≤ ${plainPercent(gate.maxErrorRate)}`,
    status: over ? 'regression' : 'ok',
    reasoning: `${count(failed)} of ${count(requests)} requests failed (${plainPercent(rate)}, limit ${plainPercent(gate.maxErrorRate)})`,
    phrase: over ? `error rate ${plainPercent(rate)} over the ${plainPercent(gate.maxErrorRate)} limit` : undefined,
  };
}

function passHeadline(rows: Row[], view: BaselineView): string {
  const latency = rows.filter((row) => row.metric === 'p50' || row.metric === 'p95');
  if (latency.every((row) => row.change === undefined)) {
    const figures = latency.map((row) => `${row.metric} ${milliseconds(row.current)}`).join(', ');
    return view.mode === 'no-history' ? `no baseline yet: ${figures}` : `${figures} (${view.context})`;
  }
  const changes = latency.map((row) => `${row.metric} ${signedPercent(row.change ?? 0)}${row.status === 'improved' ? ' (improved)' : ''}`);
  return `${changes.join(', ')} vs baseline (${view.context})`;
}

/** Which latency a stored baseline is judged on; undefined outside stored mode or with `network-rtt: off`. */
function basisOf(input: DecisionInput): BasisChoice | undefined {
  const { candidate, baseline } = input.figures;
  if (baseline?.source !== 'stored' || !input.networkRtt) return undefined;
  return chooseBasis(candidate.timed, baseline, input.openLoop);
}

/** This run's p50 and p95 on the basis judged. */
function currentLatency(candidate: LiveFigures, basis: BasisChoice | undefined): CurrentLatency {
  const service = basis?.basis === 'service-time';
  const burstFigures = (metric: LatencyMetric) => candidate.latency.map((burst) => (service ? burst.service![metric] : burst[metric]));
  return {
    figure: service
      ? { p50: candidate.service?.p50, p95: candidate.service?.p95 }
      : { p50: candidate.median.p50, p95: candidate.median.p95 },
    bursts: { p50: burstFigures('p50'), p95: burstFigures('p95') },
  };
}

/** One endpoint judged against its baseline: the rows, and what the baseline and the judgements note. */
interface EndpointJudgement {
  view: BaselineView;
  basis?: BasisChoice;
  rows: Row[];
  notes: string[];
  warnings: string[];
  /** Set by the p50 judgement in stored mode. */
  detectable?: number;
}

function judgeEndpoint(input: DecisionInput): EndpointJudgement {
  const { candidate } = input.figures;
  const basis = basisOf(input);
  const latency = currentLatency(candidate, basis);
  const measured = candidate.latency.length;
  const view = viewOf(input, measured, basis);
  const notes: string[] = [];
  const warnings: string[] = [];
  let detectable: number | undefined;
  const rows: Row[] = [
    ...LATENCY_METRICS.map((metric) => {
      const judged = measured ? view.judge?.(metric, latency, maxIncreaseOf(metric, input.gate)) : undefined;
      if (metric === 'p50' && judged?.minDetectableChange !== undefined) {
        detectable = judged.minDetectableChange;
        notes.push(
          `With this history (${view.context}), loadgate catches a p50 slowdown of ${signedPercent(detectable)} or more in 95% of runs.`,
        );
      }
      if (judged?.warning) warnings.push(judged.warning);
      if (judged?.note) notes.push(judged.note);
      return latencyRow(metric, judged, view, latency.figure[metric], input.gate);
    }),
    ...INFO_METRICS.map((metric) => infoRow(metric, view, candidate)),
    errorRateRow(view, candidate, input.gate),
  ];
  return { view, basis, rows, notes, warnings, detectable };
}

/**
 * Decide one run. With `confirmation` set, the figures hold the first bursts and the confirmation
 * bursts together. The rows are the endpoint's; crashes, host trouble and confirmation are the run's.
 */
export function decide(input: DecisionInput): Decision {
  const crashes = input.crashes ?? [];
  const environment = input.environmentIssues ?? [];
  const { view, basis, rows, detectable, ...judgement } = judgeEndpoint(input);
  const notes = [...view.notes];
  const warnings = [...view.warnings];
  if (input.confirmation) {
    const { firstBursts, firstVerdict, allBursts } = input.confirmation;
    notes.push(`Confirmed: the first ${firstBursts} bursts gave ${firstVerdict}; this verdict uses all ${allBursts}.`);
  }
  const finish = (verdict: Verdict, headline: string, rows: Row[]): Decision => ({
    verdict,
    mode: view.mode,
    headline,
    comparisons: rows.map(({ phrase: _phrase, ...row }) => row),
    warnings,
    notes,
    confirmed: input.confirmation !== undefined,
    crashed: crashes.length > 0,
    ...(basis && view.mode !== 'no-history' && { latencyBasis: basis.basis }),
    ...(detectable !== undefined && { minDetectableChange: detectable }),
  });
  if (crashes.length > 0) notes.push(...crashes.map((crash) => `Crash: ${crash}.`));
  if (input.figures.candidate.bursts === 0 && crashes.length === 0) return finish('error', 'no load bursts were measured', []);
  notes.push(...judgement.notes);
  warnings.push(...judgement.warnings);

  const worst = Math.max(...rows.map((row) => SEVERITY[row.status]));
  const phrases = (status: ComparisonStatus) => rows.flatMap((row) => (row.status === status && row.phrase ? [row.phrase] : [])).join('; ');

  if (crashes.length > 0) return finish('regression', `target crashed under load: ${crashes.join('; ')}`, rows);
  if (worst === SEVERITY.regression && environment.length > 0) {
    const distrust = `not trusted, measured under ${environment.join(', ')}`;
    const softened = rows.map((row) =>
      row.status === 'regression' ? { ...row, status: 'inconclusive' as const, reasoning: `${row.reasoning}; ${distrust}` } : row,
    );
    return finish('inconclusive', `inconclusive: ${phrases('regression')}, but measured under ${environment.join(', ')}`, softened);
  }
  if (environment.length > 0) warnings.push(`Measured under ${environment.join(', ')}.`);
  if (worst === SEVERITY.regression) return finish('regression', phrases('regression'), rows);
  if (input.figures.candidate.latency.length === 0) return finish('error', 'no 2xx responses were measured: nothing to compare', rows);
  if (view.unusable) return finish('error', view.unusable, rows);
  if (worst === SEVERITY.inconclusive) return finish('inconclusive', phrases('inconclusive'), rows);
  return finish('pass', passHeadline(rows, view), rows);
}
