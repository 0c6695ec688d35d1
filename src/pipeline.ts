// One gate run, top to bottom: baseline → one request to each target → target host (SSH, lock,
// swap, watch) → warmup and bursts → verdict (confirmed when it would fail) → baseline update →
// report. Every failure ends in a report with verdict `error`; nothing here prints or exits.

import { redactedUrl, withoutSecrets } from './config/redact-url.ts';
import type { RunContext } from './config/run-context.ts';
import { isDefaultBranchPush } from './config/run-context.ts';
import type { BaselineSettings, LoadSettings, Settings } from './config/settings.ts';
import { openBaselineStore } from './baseline/open-store.ts';
import { historyBurstOf, loadSignatureDifferences, loadSignatureOf, type HistoryRun } from './baseline/history.ts';
import type { BaselineStore } from './baseline/store.ts';
import { messageOf } from './errors.ts';
import { mergedCurve } from './load/histogram.ts';
import type { BurstResult, BurstTarget } from './load/measurement.ts';
import { preflight, preflightRequestsOf } from './load/preflight.ts';
import { probeNow, rttTargetOf, type RttFigures } from './load/rtt-probe.ts';
import { runSeries, targetsOf, warmUp, type BurstObserver, type SeriesPlan } from './load/series.ts';
import type { Log } from './log.ts';
import { buildReport, type RunOutcome } from './report/build-report.ts';
import type { GateReport } from './report/gate-report.ts';
import { openTarget, type TargetSession } from './target/session.ts';
import { historySource, type BaselineSource } from './verdict/decide.ts';
import { runVerdict, type RunVerdict } from './verdict/run-verdict.ts';
import { applyHostSpeedRule, runHostSpeedOf } from './verdict/host-speed-rule.ts';
import { applyMemoryRules } from './verdict/memory-rules.ts';
import { latencyBurstOf, reduceRun } from './verdict/reduce-run.ts';
import { milliseconds } from './verdict/wording.ts';
import { healthFindings } from './watch/health.ts';
import { summarizeHostRun } from './watch/host-summary.ts';
import { runServiceMemory } from './watch/service-memory.ts';

export async function runGate(settings: Settings, context: RunContext, log: Log): Promise<GateReport> {
  const startedAt = new Date().toISOString();
  let baseline: Baseline | undefined;
  let target: TargetSession | undefined;
  let verdict: RunVerdict | undefined;
  let rttBefore: RttFigures | undefined;
  let recording: RunOutcome['recording'];
  let error: string | undefined;
  try {
    // Each step stores what it opened before the next can throw: the finally below closes the target.
    baseline = await log.phase('connect and host checks', async () => {
      const loaded = await loadBaseline(settings, context, log);
      // Before the host is opened and locked: a broken deploy is an error in seconds, never a slow build.
      await preflight(preflightRequestsOf(settings.load, settings.baseline.abUrl), settings.load, log);
      if (settings.ssh) target = await openTarget(settings, context, log);
      if (settings.load.networkRtt === 'auto') rttBefore = await probeBefore(settings.load, log);
      return loaded;
    });
    const measured = await measureAndDecide(settings, baseline, target, log);
    verdict = measured;
    const store = baseline.store;
    await log.phase('verdict', async () => {
      log.info(`verdict ${measured.decision.verdict}: ${measured.decision.headline}`);
      const policy = recordPolicy(settings.baseline, context, measured);
      recording = { recorded: false, note: policy.note };
      if (policy.record && store) recording = await record(settings, context, store, measured, target, log, policy.note);
    });
  } catch (thrown) {
    // A library's message may quote the URL whole; the report is a file and a comment, never masked.
    error = withoutSecrets(messageOf(thrown), settings.secrets);
  } finally {
    await target?.close().catch((thrown: unknown) => log.warning(`closing the SSH session: ${messageOf(thrown)}`));
  }
  const host = target && { report: target.hostReport, bursts: target.watch.bursts };
  // A run that stopped before its verdict reports what it measured until then.
  const figures =
    verdict?.figures ??
    reduceRun({ bursts: [], baseline: baseline?.source ?? { kind: 'none' }, hostSpeedMbps: runHostSpeedOf(host?.bursts ?? []) });
  const finishedAt = new Date().toISOString();
  return buildReport(settings, context, { startedAt, finishedAt, baseline, host, verdict, figures, rttBefore, recording, error });
}

interface Baseline {
  store?: BaselineStore;
  source: BaselineSource;
  location: string;
  /** Stored runs measured with this run's settings, oldest first. */
  comparable: HistoryRun[];
  /** The runs of `comparable` that a stored baseline is judged against; [] without one. */
  window: readonly HistoryRun[];
  /** Non-empty when no stored run was comparable: how the newest one's settings differ. */
  settingsChanges: string[];
}

async function loadBaseline(settings: Settings, context: RunContext, log: Log): Promise<Baseline> {
  if (settings.baseline.abUrl) {
    const location = `live A/B against ${redactedUrl(settings.baseline.abUrl)}`;
    return { source: { kind: 'ab' }, comparable: [], window: [], settingsChanges: [], location };
  }
  const store = openBaselineStore(settings, context, log);
  if (!store) return { source: { kind: 'none' }, comparable: [], window: [], settingsChanges: [], location: 'none' };
  const runs = await store.read(settings.baseline.key);
  const current = loadSignatureOf(settings.load);
  const comparable = runs.filter((run) => loadSignatureDifferences(run.config, current).length === 0);
  const newest = runs.at(-1);
  const settingsChanges = comparable.length === 0 && newest ? loadSignatureDifferences(newest.config, current) : [];
  log.info(`baseline: ${comparable.length} comparable of ${runs.length} stored runs (${store.location})`);
  const source = historySource(comparable);
  return { store, source, comparable, window: source.window.runs, settingsChanges, location: store.location };
}

/** The round trip to the target before any load; a target that refuses the probe is reported, never fatal. */
async function probeBefore(load: LoadSettings, log: Log): Promise<RttFigures> {
  const target = rttTargetOf(load.url);
  const rtt = await probeNow(target);
  const where = `${target.host}:${target.port}`;
  if (rtt.medianMs !== undefined) {
    log.info(`network RTT to ${where} before load: median ${rtt.medianMs} ms, min ${rtt.minMs} ms (TCP handshake)`);
  }
  if (rtt.failed > 0) {
    log.warning(`network RTT probe: ${rtt.failed} of ${rtt.failed + rtt.samples} handshakes to ${where} failed (${rtt.failure})`);
  }
  return rtt;
}

async function measureAndDecide(
  settings: Pick<Settings, 'load' | 'baseline' | 'gate' | 'memoryGate'>,
  baseline: Baseline,
  target: TargetSession | undefined,
  log: Log,
): Promise<RunVerdict> {
  const plan: SeriesPlan = { load: settings.load, abUrl: settings.baseline.abUrl, probeRtt: settings.load.networkRtt === 'auto' };
  await log.phase('warmup', async () => {
    log.info(`warming up ${redactedUrl(settings.load.url)} for ${settings.load.warmupMs} ms`);
    log.progress(settings.load.warmupMs * targetsOf(plan).length);
    await warmUp(plan);
  });
  const seriesLength = settings.load.bursts * targetsOf(plan).length;
  const seriesTime = `${aboutSeconds(seriesLength * settings.load.durationMs)} in all (estimated from the burst duration)`;
  const measure = (firstIndex: number) => {
    const confirming = firstIndex > 0;
    return log.phase(confirming ? 'confirmation' : 'bursts', async () => {
      if (!confirming) log.info(`measuring ${seriesLength} bursts of ${settings.load.durationMs} ms, ${seriesTime}`);
      const observer = burstProgress(plan, { firstIndex, length: seriesLength, confirming }, log, target?.observer);
      return warnOfFailedProbes(await runSeries(plan, settings.load.bursts, firstIndex, observer), log);
    });
  };
  return runVerdict({
    baseline: baseline.source,
    settingsChanges: baseline.settingsChanges,
    gate: settings.gate,
    networkRtt: settings.load.networkRtt === 'auto',
    openLoop: settings.load.rate !== undefined,
    measure,
    findings: (bursts) => healthFindings(target?.watch.bursts ?? [], bursts),
    hostSpeed: () => runHostSpeedOf(target?.watch.bursts ?? []),
    onConfirming: (first) => log.info(`first verdict ${first.verdict}: confirming with ${seriesLength} more bursts, ${seriesTime}`),
    hostRules: (decision, figures) => {
      const hostBursts = target?.watch.bursts ?? [];
      // Like latency, a history measured with other settings is not compared.
      const history = baseline.settingsChanges.length === 0 ? baseline.window : [];
      const memory = applyMemoryRules(decision, { limits: settings.memoryGate, hostBursts, history, live: baseline.source.kind === 'ab' });
      return applyHostSpeedRule(memory, figures.hostSpeed);
    },
  });
}

/** An estimate from the bursts' duration: the host watch's probes and the generator's start add to it. */
function aboutSeconds(ms: number): string {
  return `about ${Math.round(ms / 1000)} s`;
}

/**
 * Tells the log where a series of bursts stands: the live line before each burst, and one line with
 * the burst's figures after it. `target` (the host watch) brackets the burst inside these.
 */
function burstProgress(
  plan: SeriesPlan,
  series: { firstIndex: number; length: number; confirming: boolean },
  log: Log,
  target: BurstObserver | undefined,
): BurstObserver {
  const position = (index: number) => index - series.firstIndex + 1;
  const side = (burstTarget: BurstTarget) => (plan.abUrl ? ` (${burstTarget})` : '');
  return {
    async beforeBurst(index, burstTarget) {
      log.progress(
        (series.length - position(index) + 1) * plan.load.durationMs,
        `burst ${position(index)}/${series.length}${side(burstTarget)}`,
      );
      await target?.beforeBurst(index, burstTarget);
    },
    async afterBurst(result) {
      await target?.afterBurst(result);
      const where = `burst ${position(result.index)}/${series.length}${side(result.target)}`;
      const left = (series.length - position(result.index)) * plan.load.durationMs;
      log.info(
        series.confirming
          ? `confirming: ${where}, ${aboutSeconds(left)} left: ${burstFigures(result)}`
          : `${where}: ${burstFigures(result)}`,
      );
    },
  };
}

/** One burst's figures for the log: latencies only from 2xx responses (none: "—"), service time where an RTT was probed. */
function burstFigures(burst: BurstResult): string {
  const failed = burst.non2xx + burst.errors + burst.timeouts;
  const counts = `${Math.round(burst.requestsPerSec)} req/s, ${failed} ${failed === 1 ? 'error' : 'errors'}`;
  if (burst.ok === 0) return `p50 —, p95 —, ${counts}`;
  const { service } = latencyBurstOf(burst);
  // Clamped to zero, it says only that a handshake took as long as a request (service-time.ts).
  const serviceText = service && service.p50 > 0 ? `, service p50 ${milliseconds(service.p50)}` : '';
  return `p50 ${milliseconds(burst.p50)}, p95 ${milliseconds(burst.p95)}, ${counts}${serviceText}`;
}

/** A target that refuses or ignores the probe's handshakes is told, never failed for it. */
function warnOfFailedProbes(bursts: BurstResult[], log: Log): BurstResult[] {
  const failed = bursts.reduce((sum, burst) => sum + (burst.rtt?.failed ?? 0), 0);
  if (failed > 0) {
    const probes = bursts.reduce((sum, burst) => sum + (burst.rtt ? burst.rtt.failed + burst.rtt.samples : 0), 0);
    const why = bursts.find((burst) => burst.rtt?.failure)?.rtt?.failure;
    log.warning(
      `network RTT probe: ${failed} of ${probes} handshakes during the bursts failed (${why}); bursts without an RTT are judged end to end`,
    );
  }
  return bursts;
}

/** Whether this run goes into the history, and why (not). */
function recordPolicy(baseline: BaselineSettings, context: RunContext, verdict: RunVerdict): { record: boolean; note: string } {
  if (baseline.abUrl) return { record: false, note: 'A/B mode keeps no history' };
  if (baseline.store === 'none') return { record: false, note: 'baseline-store is none' };
  const asked = {
    true: { record: true, note: 'update-baseline is true' },
    false: { record: false, note: 'update-baseline is false' },
    auto: isDefaultBranchPush(context)
      ? { record: true, note: 'push to the default branch' }
      : { record: false, note: 'only a push to the default branch records (update-baseline: auto)' },
  }[baseline.update];
  if (asked.record && verdict.decision.verdict === 'error') return { record: false, note: `not recorded: ${verdict.decision.headline}` };
  return asked;
}

/** Appends this run to the history; a disturbed run is kept but marked so it never serves as a baseline. */
async function record(
  settings: Pick<Settings, 'baseline' | 'load'>,
  context: RunContext,
  store: BaselineStore,
  verdict: RunVerdict,
  target: TargetSession | undefined,
  log: Log,
  note: string,
): Promise<NonNullable<RunOutcome['recording']>> {
  const healthy = verdict.findings.crashes.length === 0 && verdict.findings.environmentIssues.length === 0;
  await store.append(settings.baseline.key, historyRunOf(settings.load, context, verdict, healthy, target));
  log.info(`recorded this run in ${store.location}`);
  return { recorded: true, note: healthy ? note : `${note}; kept as unhealthy: it will not serve as a baseline` };
}

function historyRunOf(load: LoadSettings, context: RunContext, verdict: RunVerdict, healthy: boolean, target?: TargetSession): HistoryRun {
  const candidate = verdict.bursts.filter((burst) => burst.target === 'candidate');
  const candidateHostBursts = (target?.watch.bursts ?? []).filter((burst) => burst.target === 'candidate');
  return {
    sha: context.sha,
    ref: context.ref,
    time: new Date().toISOString(),
    config: loadSignatureOf(load),
    host: target && {
      fingerprint: target.watch.machine,
      summary: summarizeHostRun('baseline', candidateHostBursts),
    },
    healthy,
    bursts: candidate.map(historyBurstOf),
    curve: mergedCurve(candidate.map((burst) => burst.histogram)),
    serviceMemory: runServiceMemory(candidateHostBursts.map((burst) => burst.figures.service)) ?? undefined,
    hostSpeedMbps: verdict.figures.hostSpeed?.currentMbps,
  };
}
