// The service's own memory as gated figures, next to latency: its peak against the baseline's
// (`max-memory-increase`, the same noise band as latency in stored mode, the same rank test and
// bootstrap in A/B mode), the host's headroom (`min-memory-headroom`, absolute like p95-budget),
// and swap-in as a symptom (`max-swap-in`). Pure: it refines the latency decision.

import type { MemoryGateSettings } from '../config/settings.ts';
import type { BurstHostHealth } from '../watch/health.ts';
import {
  formatMb,
  processName,
  runServiceMemory,
  storedServiceMemoryOf,
  type ServiceBurstMemory,
  type StoredProcessPeak,
  type StoredServiceMemory,
} from '../watch/service-memory.ts';
import type { Comparison, ComparisonStatus, Decision } from './decision.ts';
import { findChangePoints, levelChangeFloor } from './change-points.ts';
import { AB_SIGNIFICANCE, COLD_START_RUNS, historyBand } from './latency-rules.ts';
import { bootstrapRatioOfMedians, mannWhitneyU, median } from './statistics.ts';
import { plainPercent, pValue, runs, signedPercent } from './wording.ts';

/** A growth smaller than this is never a regression, whatever its percentage (allocator noise). */
const MIN_CHANGE_KIB = 8 * 1024;
/** pswpin counts pages; x86-64 and arm64 hosts use 4 KiB pages. */
const PAGE_KIB = 4;

export const SWAP_HIDING_MEMORY = 'the service no longer fits in RAM; swap is hiding it at the cost of latency';

export interface MemoryRuleInput {
  limits: MemoryGateSettings;
  /** Every burst the host watch saw (this build's, and the live baseline's in A/B mode); [] without `host`. */
  hostBursts: readonly BurstHostHealth[];
  /** Stored mode: the baseline window's runs (baseline/window.ts), oldest first; [] in A/B mode or without history. */
  history: ReadonlyArray<{ serviceMemory?: unknown }>;
  /** A/B mode: the baseline deployment's memory comes from the baseline bursts. */
  live: boolean;
}

interface Row extends Comparison {
  phrase?: string;
}

const MB = (kib: number) => kib / 1024;

/** The stored figures a new run compares with: the window's readable ones. */
export function storedPeaks(history: MemoryRuleInput['history']): StoredServiceMemory[] {
  return history.map((run) => storedServiceMemoryOf(run.serviceMemory)).filter((stored): stored is StoredServiceMemory => stored !== null);
}

/** Processes a phrase names; the rest are counted. */
const PROCESSES_NAMED = 3;

const signedMb = (kib: number) => (kib < 0 ? `−${formatMb(-kib)}` : `+${formatMb(kib)}`);

/**
 * Each of this run's processes against the baseline's process of the same command and role
 * (master or worker) and rank among them, largest growth first. A process's baseline is the median
 * over the baseline runs that had it; one no baseline run had grew by all it holds. Processes are
 * matched by command line, never by pid, which differs each run.
 */
export function processGrowth(
  current: readonly StoredProcessPeak[],
  baselines: ReadonlyArray<readonly StoredProcessPeak[]>,
): { process: StoredProcessPeak; grownKib: number }[] {
  const ranked = (processes: readonly StoredProcessPeak[]) => {
    const byName = new Map<string, number[]>();
    for (const process of [...processes].sort((a, b) => b.peakKib - a.peakKib)) {
      byName.set(processName(process), [...(byName.get(processName(process)) ?? []), process.peakKib]);
    }
    return byName;
  };
  const baselineRanks = baselines.map(ranked);
  const seen = new Map<string, number>();
  return [...current]
    .sort((a, b) => b.peakKib - a.peakKib)
    .map((process) => {
      const name = processName(process);
      const rank = seen.get(name) ?? 0;
      seen.set(name, rank + 1);
      const before = baselineRanks.flatMap((ranks) => ranks.get(name)?.[rank] ?? []);
      return { process, grownKib: process.peakKib - (before.length > 0 ? median(before) : 0) };
    })
    .sort((a, b) => b.grownKib - a.grownKib);
}

/** "python3 gunicorn worker +141 MB, python3 gunicorn worker +140 MB, python3 gunicorn +0.0 MB". */
function perProcessWords(current: StoredServiceMemory, baselines: ReadonlyArray<StoredServiceMemory>): string {
  if (!current.perProcess) return current.processes > 1 ? `, ${current.processes} processes` : '';
  const known = baselines.flatMap((run) => (run.perProcess ? [run.perProcess] : []));
  const more = (shown: number) => (current.processes > shown ? `, ${current.processes - shown} more` : '');
  if (known.length === 0) {
    const largest = current.perProcess.slice(0, PROCESSES_NAMED);
    const listed = largest.map((process) => `${processName(process)} ${formatMb(process.peakKib)}`).join(', ');
    return `; largest now: ${listed}${more(largest.length)} (the baseline has no per-process figures)`;
  }
  const grown = processGrowth(current.perProcess, known).slice(0, PROCESSES_NAMED);
  return `; by process: ${grown.map(({ process, grownKib }) => `${processName(process)} ${signedMb(grownKib)}`).join(', ')}${more(grown.length)}`;
}

function growthPhrase(
  current: StoredServiceMemory,
  baselines: ReadonlyArray<StoredServiceMemory>,
  baselineKib: number,
  change: number,
): string {
  const grown = current.peakKib - baselineKib;
  const total = `${current.label} peaked at ${formatMb(current.peakKib)}, +${formatMb(grown)} (${signedPercent(change)}) over baseline`;
  return `${total}${perProcessWords(current, baselines)}`;
}

/** The service-memory row before it is judged: this run's peak and the limit. */
function serviceRow(peakKib: number, limit: number): Row {
  return { metric: 'serviceMemory', current: MB(peakKib), limit: `+${plainPercent(limit)}`, status: 'info', reasoning: '' };
}

function serviceRowAgainstHistory(current: StoredServiceMemory, stored: StoredServiceMemory[], limit: number): Row {
  const measuredAlike = stored.filter((run) => run.label === current.label && run.source === current.source);
  // Judged against the runs since the peak's level last moved (verdict/change-points.ts).
  const moved = findChangePoints(
    measuredAlike.map((run) => Math.log(run.peakKib)),
    { minMagnitude: levelChangeFloor(limit) },
  ).at(-1);
  const comparable = measuredAlike.slice(moved?.index ?? 0);
  const base = serviceRow(current.peakKib, limit);
  if (comparable.length === 0) {
    const why =
      stored.length > 0 ? `no stored run measured ${current.label} by ${current.source}` : 'no stored run has a service memory figure yet';
    return { ...base, reasoning: `${current.label} peaked at ${formatMb(current.peakKib)} (${current.source}); ${why}` };
  }
  const { centre, halfBand } = historyBand(comparable.map((run) => Math.log(run.peakKib)));
  const baselineKib = Math.exp(centre);
  const ratio = current.peakKib / baselineKib;
  const change = ratio - 1;
  const judged = judgedAgainst(base, baselineKib, change);
  const peaked = `${current.label} peaked at ${formatMb(current.peakKib)} (${current.source})`;
  const head = `${peaked}, ${signedPercent(change)} (limit +${plainPercent(limit)})`;
  const coldStart = comparable.length < COLD_START_RUNS;
  const counted = moved
    ? `${runs(comparable.length)} since the history changed ${signedPercent(moved.relativeChange)}`
    : runs(comparable.length);
  const band = `(upper limit ${signedPercent(Math.exp(halfBand) - 1)}, ${counted})`;
  if (ratio > 1 + limit) {
    if (current.peakKib - baselineKib < MIN_CHANGE_KIB)
      return judged('ok', `${head}, but under the ${formatMb(MIN_CHANGE_KIB)} minimum change`);
    const phrase = growthPhrase(current, comparable, baselineKib, change);
    if (coldStart) return judged('regression', `${head}; cold start: percent limit only (${counted} in history)`, phrase);
    if (ratio > Math.exp(halfBand)) return judged('regression', `${head}, above the history's noise band ${band}`, phrase);
    return judged('inconclusive', `${head}, but inside the history's noise band ${band}`, `${phrase}, inside the history's noise band`);
  }
  return judged('ok', `${head}, within the limit (${counted})`);
}

/** A row's verdict against a baseline figure: the same shape in stored and live mode. */
function judgedAgainst(base: Row, baselineKib: number, change: number) {
  return (status: ComparisonStatus, reasoning: string, phrase?: string): Row => ({
    ...base,
    baseline: MB(baselineKib),
    change,
    status,
    reasoning,
    phrase,
  });
}

function serviceRowLive(candidate: ServiceBurstMemory[], baseline: ServiceBurstMemory[], limit: number): Row {
  const current = runServiceMemory(candidate)!;
  const baselineRun = runServiceMemory(baseline);
  const base = serviceRow(current.peakKib, limit);
  if (baseline.length === 0)
    return {
      ...base,
      reasoning: `${current.label} peaked at ${formatMb(current.peakKib)}; the baseline deployment's processes were not measured`,
    };
  const basePeaks = baseline.map((burst) => burst.peakKib);
  const candPeaks = candidate.map((burst) => burst.peakKib);
  const interval = bootstrapRatioOfMedians(basePeaks, candPeaks)!;
  const test = mannWhitneyU(basePeaks.map(Math.log), candPeaks.map(Math.log));
  const baselineKib = Math.max(...basePeaks);
  const change = current.peakKib / baselineKib - 1;
  const ci = `95% CI of the ratio of medians ${signedPercent(interval.lower - 1)} to ${signedPercent(interval.upper - 1)}`;
  const evidence = `${ci}, Mann–Whitney p ${pValue(test.p)}, ${basePeaks.length} vs ${candPeaks.length} bursts`;
  const against = `${current.label} peaked at ${formatMb(current.peakKib)} against ${formatMb(baselineKib)} for ${baseline[0]!.label}`;
  const head = `${against}, ${signedPercent(change)} (limit +${plainPercent(limit)})`;
  const judged = judgedAgainst(base, baselineKib, change);
  const over = interval.ratio > 1 + limit && current.peakKib - baselineKib >= MIN_CHANGE_KIB;
  if (over && interval.lower > 1 && test.p < AB_SIGNIFICANCE)
    return judged('regression', `${head} (${evidence})`, growthPhrase(current, baselineRun ? [baselineRun] : [], baselineKib, change));
  if (over)
    return judged(
      'inconclusive',
      `${head}, not significant (${evidence})`,
      `${growthPhrase(current, baselineRun ? [baselineRun] : [], baselineKib, change)}, not significant`,
    );
  return judged('ok', `${head} (${evidence})`);
}

function headroomRow(bursts: readonly BurstHostHealth[], limit: number): Row | undefined {
  const lowest = bursts
    .filter((burst) => burst.figures.memAvailableMinKib !== null && burst.figures.memTotalKib)
    .sort((a, b) => a.figures.memAvailableMinKib! - b.figures.memAvailableMinKib!)[0];
  if (!lowest) return undefined;
  const available = lowest.figures.memAvailableMinKib!;
  const total = lowest.figures.memTotalKib!;
  const share = available / total;
  const had = `at this load the host had ${formatMb(available)} of ${formatMb(total)} available (${plainPercent(share)})`;
  const under = share < limit;
  return {
    metric: 'memoryHeadroom',
    current: share,
    limit: `≥ ${plainPercent(limit)}`,
    status: under ? 'regression' : 'ok',
    reasoning: `${had}, ${under ? 'under' : 'within'} the ${plainPercent(limit)} minimum of MemTotal`,
    phrase: under ? `${had}: the next peak kills a worker` : undefined,
  };
}

function swapInRate(burst: BurstHostHealth): number {
  const seconds = burst.figures.spanSec;
  return seconds > 0 ? (burst.figures.swapInPages * PAGE_KIB) / 1024 / seconds : 0;
}

function swapRow(bursts: readonly BurstHostHealth[], limit: number | undefined): Row | undefined {
  const rates = bursts.map(swapInRate);
  if (limit === undefined && rates.every((rate) => rate === 0)) return undefined;
  const rate = median(rates);
  const over = limit !== undefined && rate > limit;
  const shown = `swap-in ${rate.toFixed(2)} MB/s (median over ${bursts.length} bursts)`;
  return {
    metric: 'swapIn',
    current: rate,
    limit: limit === undefined ? '' : `≤ ${limit} MB/s`,
    status: limit === undefined ? 'info' : over ? 'regression' : 'ok',
    reasoning:
      limit === undefined
        ? `${shown}, for information (\`max-swap-in\` is off)`
        : `${shown}, ${over ? 'over' : 'within'} the ${limit} MB/s limit`,
    phrase: over ? `${shown} over the ${limit} MB/s limit: ${SWAP_HIDING_MEMORY}` : undefined,
  };
}

/** Swap-in in most bursts while latency rose: a symptom worth a sentence whatever the limits say. */
function swapHidesMemory(bursts: readonly BurstHostHealth[], decision: Decision): boolean {
  const swapping = bursts.filter((burst) => burst.figures.swapInPages > 0).length;
  const latencyRose = decision.comparisons.some((row) => (row.metric === 'p50' || row.metric === 'p95') && (row.change ?? 0) > 0);
  return bursts.length > 0 && swapping * 2 > bursts.length && latencyRose;
}

function memoryRows(input: MemoryRuleInput): Row[] {
  const candidate = input.hostBursts.filter((burst) => burst.target === 'candidate');
  const rows: Row[] = [];
  const services = candidate.map((burst) => burst.figures.service).filter((figures): figures is ServiceBurstMemory => !!figures);
  if (services.length > 0) {
    const limit = input.limits.maxMemoryIncrease;
    if (input.live) {
      const baseline = input.hostBursts
        .filter((burst) => burst.target === 'baseline')
        .map((burst) => burst.figures.baselineService)
        .filter((figures): figures is ServiceBurstMemory => !!figures);
      rows.push(serviceRowLive(services, baseline, limit));
    } else {
      rows.push(serviceRowAgainstHistory(runServiceMemory(services)!, storedPeaks(input.history), limit));
    }
  }
  const headroom = headroomRow(candidate, input.limits.minMemoryHeadroom);
  if (headroom) rows.push(headroom);
  const swap = candidate.length > 0 ? swapRow(candidate, input.limits.maxSwapInMbPerSec) : undefined;
  if (swap) rows.push(swap);
  return rows;
}

/** The latency decision with the memory rows added, and its verdict and headline raised by them. */
export function applyMemoryRules(decision: Decision, input: MemoryRuleInput): Decision {
  const rows = memoryRows(input);
  if (rows.length === 0) return decision;
  const candidate = input.hostBursts.filter((burst) => burst.target === 'candidate');
  const warnings = swapHidesMemory(candidate, decision)
    ? [...decision.warnings, `Swap-in during most bursts while latency rose: ${SWAP_HIDING_MEMORY}.`]
    : decision.warnings;
  const comparisons = [...decision.comparisons, ...rows.map(({ phrase: _phrase, ...row }) => row)];
  const phrases = (status: ComparisonStatus) => rows.flatMap((row) => (row.status === status && row.phrase ? [row.phrase] : []));
  const regressions = phrases('regression');
  const inconclusive = phrases('inconclusive');
  const refined = { ...decision, comparisons, warnings };
  if (decision.verdict === 'error' || decision.crashed) return refined;
  if (regressions.length > 0) {
    const headline = decision.verdict === 'regression' ? [decision.headline, ...regressions].join('; ') : regressions.join('; ');
    return { ...refined, verdict: 'regression', headline };
  }
  if (inconclusive.length > 0 && decision.verdict === 'pass')
    return { ...refined, verdict: 'inconclusive', headline: inconclusive.join('; ') };
  return refined;
}
