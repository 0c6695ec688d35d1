// The verdict of a whole run, the one policy the pipeline and the power benchmark share: decide on
// the first bursts; when that verdict would fail the check, measure as many again and decide on
// all of them; and never pass against a baseline that was measured with other settings.

import type { GateSettings } from '../config/settings.ts';
import type { BurstResult } from '../load/measurement.ts';
import { decide, type BaselineSource } from './decide.ts';
import { needsConfirmation, type Decision } from './decision.ts';
import { endpointFigures, reduceRun, type ReducedRun } from './reduce-run.ts';

/** What the host watch (or the generator's own CPU) says about a set of bursts. */
export interface HostFindings {
  crashes: string[];
  environmentIssues: string[];
}

export interface RunVerdictInput {
  baseline: BaselineSource;
  /** Settings that differ from the stored baseline's: non-empty means no stored run was comparable. */
  settingsChanges: readonly string[];
  gate: GateSettings;
  /** Measures one series of bursts, numbered from `firstIndex`. */
  measure(firstIndex: number): Promise<BurstResult[]>;
  findings(bursts: readonly BurstResult[]): HostFindings;
  /**
   * Rules on what the host watch measured (the service's memory, the host's headroom and speed),
   * applied to each latency decision, so a memory regression is confirmed like a latency one.
   */
  hostRules?(decision: Decision, figures: ReducedRun): Decision;
  /** Set with `network-rtt: auto` (see decide.ts). */
  networkRtt?: boolean;
  /** Set with a fixed `rate` (see decide.ts). */
  openLoop?: boolean;
  /** This run's host speed index so far (watch/host-speed.ts), undefined without a probe. */
  hostSpeed?(): number | undefined;
  /** Told when the first verdict asks for confirmation bursts. */
  onConfirming?(first: Decision): void;
}

export interface RunVerdict {
  /** The first series and, when confirmed, the confirmation series after it. */
  bursts: BurstResult[];
  decision: Decision;
  /** `bursts` reduced (verdict/reduce-run.ts): the figures the decision read. */
  figures: ReducedRun;
  /** The findings on all of `bursts`, which the decision used. */
  findings: HostFindings;
}

export async function runVerdict(input: RunVerdictInput): Promise<RunVerdict> {
  // A baseline measured with other settings is not compared; the absolute limits still apply.
  const baseline: BaselineSource = input.settingsChanges.length > 0 ? { kind: 'none' } : input.baseline;
  const judge = (bursts: BurstResult[], first?: { decision: Decision; bursts: number }): RunVerdict => {
    const findings = input.findings(bursts);
    const hostSpeedMbps = input.hostSpeed?.();
    const figures = reduceRun({ bursts, baseline, hostSpeedMbps });
    const latency = decide({
      figures: endpointFigures(figures),
      gate: input.gate,
      networkRtt: input.networkRtt,
      openLoop: input.openLoop,
      hostSpeedMbps,
      environmentIssues: findings.environmentIssues,
      crashes: findings.crashes,
      confirmation: first && { firstVerdict: first.decision.verdict, firstBursts: first.bursts, allBursts: bursts.length },
    });
    return { bursts, decision: input.hostRules?.(latency, figures) ?? latency, figures, findings };
  };
  const firstBursts = await input.measure(0);
  let verdict = judge(firstBursts);
  if (needsConfirmation(verdict.decision)) {
    input.onConfirming?.(verdict.decision);
    const more = await input.measure(firstBursts.length);
    verdict = judge([...firstBursts, ...more], { decision: verdict.decision, bursts: firstBursts.length });
  }
  return { ...verdict, decision: notComparedWhenSettingsChanged(verdict.decision, input.settingsChanges) };
}

/** A pass against no comparable baseline is not a pass when the settings changed under it. */
function notComparedWhenSettingsChanged(decision: Decision, changed: readonly string[]): Decision {
  if (changed.length === 0 || decision.verdict !== 'pass') return decision;
  return {
    ...decision,
    verdict: 'inconclusive',
    headline: `settings changed since the baseline (${changed.join(', ')}): not compared`,
    warnings: [
      ...decision.warnings,
      `The stored baseline was measured with other settings (${changed.join(', ')}). ` +
        'Record a new baseline with a push to the default branch.',
    ],
  };
}
