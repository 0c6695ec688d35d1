// One gate run, top to bottom: baseline → target host (SSH, lock, swap, watch) → warmup and
// bursts → verdict (confirmed when it would fail) → baseline update → report. Every failure
// ends in a report with verdict `error`; nothing here prints or exits.

import type { RunContext } from './config/run-context.ts';
import { isDefaultBranchPush } from './config/run-context.ts';
import type { Settings } from './config/settings.ts';
import { openBaselineStore } from './baseline/open-store.ts';
import { configFingerprint, fingerprintDifferences, historyBurstOf, type HistoryRun } from './baseline/history.ts';
import type { BaselineStore } from './baseline/store.ts';
import { CURVE_PERCENTILES, latencyCurve, mergeHistograms } from './load/histogram.ts';
import type { BurstResult } from './load/measurement.ts';
import { runFigures } from './load/run-figures.ts';
import { runSeries, warmUp, type SeriesPlan } from './load/series.ts';
import type { Log } from './log.ts';
import { openTarget, type TargetSession } from './remote/target-session.ts';
import { publicSettings, REPORT_SCHEMA, REPORT_VERSION, type GateReport } from './report/gate-report.ts';
import { decide, DEFAULT_HISTORY_RUNS, type BaselineSource } from './verdict/decide.ts';
import { needsConfirmation, type Decision } from './verdict/decision.ts';
import { applyMemoryRules } from './verdict/memory-rules.ts';
import { median } from './verdict/statistics.ts';
import { healthFindings } from './watch/health.ts';
import { summarizeHostRun } from './watch/host-summary.ts';
import { runServiceMemory } from './watch/service-memory.ts';

interface BaselineState {
  store?: BaselineStore;
  source: BaselineSource;
  comparable: HistoryRun[];
  configDifferences: string[];
  location: string;
}

async function loadBaseline(settings: Settings, context: RunContext, log: Log): Promise<BaselineState> {
  if (settings.baseline.abUrl) {
    return { source: { kind: 'ab' }, comparable: [], configDifferences: [], location: `live A/B against ${settings.baseline.abUrl}` };
  }
  const store = openBaselineStore(settings, context, log);
  if (!store) return { source: { kind: 'none' }, comparable: [], configDifferences: [], location: 'none' };
  const runs = await store.read(settings.baseline.key);
  const current = configFingerprint(settings.load);
  const comparable = runs.filter((run) => fingerprintDifferences(run.config, current).length === 0);
  const newest = runs.at(-1);
  const configDifferences = comparable.length === 0 && newest ? fingerprintDifferences(newest.config, current) : [];
  log.info(`baseline: ${comparable.length} comparable of ${runs.length} stored runs (${store.location})`);
  return { store, source: { kind: 'history', runs: comparable }, comparable, configDifferences, location: store.location };
}

/** Would this run be recorded, and if not, why not. */
function recordPolicy(settings: Settings, context: RunContext): { record: boolean; note: string } {
  if (settings.baseline.abUrl) return { record: false, note: 'A/B mode keeps no history' };
  if (settings.baseline.store === 'none') return { record: false, note: 'baseline-store is none' };
  switch (settings.baseline.update) {
    case 'true':
      return { record: true, note: 'update-baseline is true' };
    case 'false':
      return { record: false, note: 'update-baseline is false' };
    case 'auto':
      return isDefaultBranchPush(context)
        ? { record: true, note: 'push to the default branch' }
        : { record: false, note: 'only a push to the default branch records (update-baseline: auto)' };
  }
}

function decideRun(settings: Settings, baseline: BaselineState, bursts: BurstResult[], session: TargetSession | undefined, first?: Decision, firstBursts?: number): Decision {
  const findings = healthFindings(session?.watch.bursts ?? [], bursts);
  const compared = baseline.configDifferences.length === 0;
  const latency = decide({
    bursts,
    // A baseline measured with other settings is not compared; the absolute limits still apply.
    baseline: baseline.configDifferences.length > 0 ? { kind: 'none' } : baseline.source,
    gate: settings.gate,
    environmentIssues: findings.environmentIssues,
    crashes: findings.crashes,
    confirmation: first && firstBursts ? { firstVerdict: first.verdict, firstBursts } : undefined,
  });
  return applyMemoryRules(latency, {
    limits: settings.memoryGate,
    hostBursts: session?.watch.bursts ?? [],
    history: compared && baseline.source.kind === 'history' ? baseline.source.runs : [],
    live: baseline.source.kind === 'ab',
  });
}

/** A pass against no comparable baseline is not a pass when the settings changed under it. */
function notComparedWhenSettingsChanged(decision: Decision, baseline: BaselineState): Decision {
  const changed = baseline.configDifferences;
  if (changed.length === 0 || decision.verdict !== 'pass') return decision;
  return {
    ...decision,
    verdict: 'inconclusive',
    headline: `settings changed since the baseline (${changed.join(', ')}): not compared`,
    warnings: [
      ...decision.warnings,
      `The stored baseline was measured with other settings (${changed.join(', ')}). Record a new baseline with a push to the default branch.`,
    ],
  };
}

function historyRunOf(bursts: BurstResult[], settings: Settings, context: RunContext, healthy: boolean, session?: TargetSession): HistoryRun {
  const candidate = bursts.filter((burst) => burst.target === 'candidate');
  const candidateHostBursts = (session?.watch.bursts ?? []).filter((burst) => burst.target === 'candidate');
  return {
    sha: context.sha,
    ref: context.ref,
    time: new Date().toISOString(),
    config: configFingerprint(settings.load),
    host: session && {
      fingerprint: session.watch.fingerprint,
      summary: summarizeHostRun('baseline', session.watch.bursts.filter((burst) => burst.target === 'candidate')),
    },
    healthy,
    bursts: candidate.map(historyBurstOf),
    curve: curveOfBursts(candidate),
    serviceMemory: runServiceMemory(candidateHostBursts.map((burst) => burst.figures.service)) ?? undefined,
  };
}

function curveOfBursts(bursts: BurstResult[]): number[] {
  const merged = mergeHistograms(bursts.map((burst) => burst.histogram));
  const curve = latencyCurve(merged);
  merged.destroy();
  return curve;
}

/** This run's curve, and the baseline's: live A/B bursts, or the median of the stored runs' curves. */
function curvesOf(bursts: BurstResult[], baseline: BaselineState): GateReport['curve'] {
  const candidate = curveOfBursts(bursts.filter((burst) => burst.target === 'candidate'));
  const live = bursts.filter((burst) => burst.target === 'baseline');
  const stored = baseline.comparable.slice(-DEFAULT_HISTORY_RUNS).map((run) => run.curve);
  const baselineCurve = live.length
    ? curveOfBursts(live)
    : stored.length
      ? CURVE_PERCENTILES.map((_, i) => median(stored.map((curve) => curve[i] ?? 0)))
      : undefined;
  return { percentiles: CURVE_PERCENTILES, candidate, baseline: baselineCurve };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runGate(settings: Settings, context: RunContext, log: Log): Promise<GateReport> {
  const report: GateReport = {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    name: settings.report.name,
    verdict: 'error',
    headline: 'the run did not finish',
    startedAt: new Date().toISOString(),
    finishedAt: '',
    context: {
      eventName: context.eventName,
      ref: context.ref,
      sha: context.sha,
      pullRequestNumber: context.pullRequestNumber,
      runUrl: context.runUrl,
    },
    settings: publicSettings(settings),
    bursts: [],
    baseline: { location: 'none', runs: 0, configDifferences: [], recorded: false, recordNote: '' },
  };
  let session: TargetSession | undefined;
  try {
    const baseline = await loadBaseline(settings, context, log);
    report.baseline.location = baseline.location;
    report.baseline.runs = baseline.comparable.length;
    report.baseline.configDifferences = baseline.configDifferences;

    if (settings.ssh) {
      session = await openTarget(settings, context, log);
      // The newest stored run that watched its host: a baseline from another machine is flagged.
      const watched = baseline.comparable.findLast((run) => run.host !== undefined)?.host;
      report.host = {
        ...session.hostReport,
        bursts: session.watch.bursts,
        storedBaseline: watched && { run: watched.summary, fingerprint: watched.fingerprint },
      };
    }

    const plan: SeriesPlan = { load: settings.load, abUrl: settings.baseline.abUrl };
    log.info(`warming up ${settings.load.url} for ${settings.load.warmupMs} ms`);
    await warmUp(plan);
    log.info(`measuring ${settings.load.bursts} bursts of ${settings.load.durationMs} ms`);
    let bursts = await runSeries(plan, settings.load.bursts, 0, session?.observer);
    let decision = decideRun(settings, baseline, bursts, session);
    if (needsConfirmation(decision)) {
      log.info(`first verdict ${decision.verdict}: confirming with ${settings.load.bursts} more bursts`);
      const more = await runSeries(plan, settings.load.bursts, bursts.length, session?.observer);
      const firstBursts = bursts.length;
      bursts = [...bursts, ...more];
      decision = decideRun(settings, baseline, bursts, session, decision, firstBursts);
    }
    decision = notComparedWhenSettingsChanged(decision, baseline);
    report.bursts = bursts;
    report.decision = decision;
    report.verdict = decision.verdict;
    report.headline = decision.headline;
    const candidate = bursts.filter((burst) => burst.target === 'candidate');
    report.figures = runFigures(candidate);
    report.curve = curvesOf(bursts, baseline);

    const policy = recordPolicy(settings, context);
    report.baseline.recordNote = policy.note;
    if (policy.record && baseline.store && decision.verdict === 'error') {
      report.baseline.recordNote = `not recorded: ${decision.headline}`;
    } else if (policy.record && baseline.store) {
      const findings = healthFindings(session?.watch.bursts ?? [], bursts);
      const healthy = findings.crashes.length === 0 && findings.environmentIssues.length === 0;
      await baseline.store.append(settings.baseline.key, historyRunOf(bursts, settings, context, healthy, session));
      report.baseline.recorded = true;
      if (!healthy) report.baseline.recordNote += '; kept as unhealthy: it will not serve as a baseline';
      log.info(`recorded this run in ${baseline.store.location}`);
    }
  } catch (error) {
    report.verdict = 'error';
    report.error = describeError(error);
    report.headline = report.error.split('\n')[0];
  } finally {
    await session?.close().catch((error: unknown) => log.warning(`closing the SSH session: ${describeError(error)}`));
    report.finishedAt = new Date().toISOString();
  }
  return report;
}
