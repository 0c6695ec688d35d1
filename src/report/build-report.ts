// The GateReport of one run, built from what its steps produced. A run that stopped early has
// only its first steps' outputs and an error; the report then says what is known. Pure.

import type { RunContext } from '../config/run-context.ts';
import type { Settings } from '../config/settings.ts';
import type { HistoryRun } from '../baseline/history.ts';
import { CURVE_PERCENTILES, mergedCurve } from '../load/histogram.ts';
import type { BurstResult } from '../load/measurement.ts';
import type { RttFigures } from '../load/rtt-probe.ts';
import type { HostReport } from '../target/session.ts';
import type { Decision } from '../verdict/decision.ts';
import { endpointFigures, type LiveFigures, type ReducedRun, type StoredFigures } from '../verdict/reduce-run.ts';
import { median } from '../verdict/statistics.ts';
import type { BurstHostHealth } from '../watch/health.ts';
import { networkSummaryOf } from './network-summary.ts';
import { publicSettings, REPORT_SCHEMA, REPORT_VERSION, type GateReport } from './gate-report.ts';

export interface RunOutcome {
  startedAt: string;
  finishedAt: string;
  baseline?: {
    location: string;
    /** Stored runs measured with this run's settings, oldest first. */
    comparable: readonly HistoryRun[];
    /** The runs of `comparable` a stored baseline is judged against (baseline/window.ts). */
    window: readonly HistoryRun[];
    /** Non-empty when no stored run was comparable: how the newest one's settings differ. */
    settingsChanges: string[];
  };
  host?: { report: HostReport; bursts: BurstHostHealth[] };
  verdict?: { bursts: BurstResult[]; decision: Decision };
  /**
   * What the run measured, reduced (verdict/reduce-run.ts): the verdict's figures, or those of what
   * was measured before the run stopped.
   */
  figures: ReducedRun;
  /** The network round trip before the first burst (`network-rtt: auto`). */
  rttBefore?: RttFigures;
  recording?: { recorded: boolean; note: string };
  /** Why the run stopped before its end. */
  error?: string;
}

export function buildReport(settings: Settings, context: RunContext, outcome: RunOutcome): GateReport {
  const { baseline, host, verdict, error } = outcome;
  const bursts = verdict?.bursts ?? [];
  const { candidate, baseline: compared } = endpointFigures(outcome.figures);
  // The newest stored run that watched its host: a baseline from another machine is flagged.
  const watched = baseline?.comparable.findLast((run) => run.host !== undefined)?.host;
  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    name: settings.report.name,
    verdict: error !== undefined ? 'error' : (verdict?.decision.verdict ?? 'error'),
    headline: error !== undefined ? error.split('\n')[0] : (verdict?.decision.headline ?? 'the run did not finish'),
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
    context: {
      eventName: context.eventName,
      ref: context.ref,
      sha: context.sha,
      headSha: context.headSha,
      pullRequestNumber: context.pullRequestNumber,
      runUrl: context.runUrl,
    },
    settings: publicSettings(settings),
    bursts,
    baseline: {
      location: baseline?.location ?? 'none',
      runs: baseline?.comparable.length ?? 0,
      configDifferences: baseline?.settingsChanges ?? [],
      recorded: outcome.recording?.recorded ?? false,
      recordNote: outcome.recording?.note ?? '',
    },
    ...(host && {
      host: { ...host.report, bursts: host.bursts, storedBaseline: watched && { run: watched.summary, fingerprint: watched.fingerprint } },
    }),
    ...(verdict && {
      decision: verdict.decision,
      figures: candidate.run,
      curve: curvesOf(bursts, baseline?.window ?? []),
    }),
    ...withNetwork(candidate, compared?.source === 'stored' ? compared : undefined, outcome.rttBefore),
    ...(outcome.figures.hostSpeed && { hostSpeed: outcome.figures.hostSpeed }),
    ...(error !== undefined && { error }),
  };
}

/** This run's curve, and the baseline's: live A/B bursts, or the median of the stored runs' curves. */
function curvesOf(bursts: readonly BurstResult[], window: readonly HistoryRun[]): GateReport['curve'] {
  const histogramsOf = (target: BurstResult['target']) => bursts.filter((burst) => burst.target === target).map((burst) => burst.histogram);
  const live = histogramsOf('baseline');
  const stored = window.map((run) => run.curve);
  const baselineCurve = live.length
    ? mergedCurve(live)
    : stored.length
      ? CURVE_PERCENTILES.map((_, i) => median(stored.map((curve) => curve[i] ?? 0)))
      : undefined;
  return { percentiles: CURVE_PERCENTILES, candidate: mergedCurve(histogramsOf('candidate')), baseline: baselineCurve };
}

function withNetwork(
  candidate: LiveFigures,
  stored: StoredFigures | undefined,
  before: RttFigures | undefined,
): Pick<GateReport, 'network'> {
  const network = networkSummaryOf(candidate, stored, before);
  return network ? { network } : {};
}
