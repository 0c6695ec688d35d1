// Per-burst health verdicts and what they mean for the run's verdict. Pure.

import type { HostSpeedProbe } from './host-speed.ts';
import type { BurstResult, BurstTarget } from '../load/measurement.ts';
import type { BurstHostFigures } from './burst-figures.ts';
import type { CrashScan } from './crash-patterns.ts';
import type { OomKill } from './kernel-log.ts';

export type HealthFlag = 'ok' | 'memory-pressure' | 'swapping' | 'oom-kill' | 'worker-crash' | 'cpu-steal' | 'generator-saturated';

export const HEALTH_THRESHOLDS = {
  /** PSI memory "some" avg10, percent of time some task waited for memory. */
  psiSomeAvg10: 10,
  /** Our own CPU time over wall time: above this the latencies measure the generator. */
  generatorCpu: 0.85,
} as const;

export interface BurstHostHealth {
  /** BurstResult.index (0-based); reports show it as burst index + 1. */
  burstIndex: number;
  target: BurstTarget;
  /** When the burst's watch began, ISO time on this (the controller's) clock. */
  startedAt: string;
  figures: BurstHostFigures;
  /** Kills the kernel logged during the burst's window. */
  oomKills: OomKill[];
  /** Crash lines the logs-command printed that were not there before the burst. */
  crashLines: CrashScan;
  generatorCpu: number;
  /** The host's speed probe just before the burst (`host-speed-probe: auto`); absent when off or failed. */
  hostSpeed?: HostSpeedProbe;
  flags: HealthFlag[];
  /** What could not be observed, and why (kernel log unreadable, sampler ended early…). */
  gaps: string[];
}

export interface HealthInputs {
  figures: BurstHostFigures;
  oomKills: readonly OomKill[];
  crashLines: CrashScan;
  generatorCpu: number;
  /** `max-cpu-steal` in percent. */
  maxStealPercent: number;
}

export function healthFlags({ figures, oomKills, crashLines, generatorCpu, maxStealPercent }: HealthInputs): HealthFlag[] {
  const flags: HealthFlag[] = [];
  if (oomKills.length > 0 || (figures.oomKills ?? 0) > 0) flags.push('oom-kill');
  if (crashLines.total > 0) flags.push('worker-crash');
  if ((figures.psiSomePeak ?? 0) > HEALTH_THRESHOLDS.psiSomeAvg10) flags.push('memory-pressure');
  if (figures.swapInPages > 0) flags.push('swapping');
  if ((figures.stealPercent ?? 0) > maxStealPercent) flags.push('cpu-steal');
  if (generatorCpu > HEALTH_THRESHOLDS.generatorCpu) flags.push('generator-saturated');
  return flags.length > 0 ? flags : ['ok'];
}

export interface HealthFindings {
  /** What killed or crashed on the target, e.g. "the kernel killed gunicorn (pid 812, 410 MB) …".
   * Each one forces the verdict to `regression` ("target crashed under load"). */
  crashes: string[];
  /** Each one turns a would-be regression into `inconclusive`: the environment, not the code. */
  environmentIssues: string[];
}

/** The load bursts' side of health: whether the generator, not the server, was measured. */
export type GeneratorLoad = Pick<BurstResult, 'index' | 'target' | 'generatorCpu'>;

/**
 * What the bursts mean for the verdict. Host bursts exist only with `host`; the generator's CPU
 * is known for every load burst, so a saturated generator is caught without SSH too.
 */
export function healthFindings(bursts: readonly BurstHostHealth[], load: readonly GeneratorLoad[]): HealthFindings {
  const crashes: string[] = [];
  for (const burst of bursts) {
    const where = `during ${burstLabel(burst)}`;
    for (const kill of burst.oomKills) crashes.push(`${describeOomKill(kill)} ${where}`);
    const unnamedKills = (burst.figures.oomKills ?? 0) - burst.oomKills.length;
    if (unnamedKills > 0) {
      crashes.push(
        `the kernel OOM-killed ${unnamedKills === 1 ? 'a process' : `${unnamedKills} processes`} ${where} (the kernel log did not name ${unnamedKills === 1 ? 'it' : 'them'})`,
      );
    }
    for (const { kind, line } of burst.crashLines.quoted) {
      crashes.push(`${kind} ${where}: ${line}`);
    }
  }
  return { crashes, environmentIssues: environmentIssues(bursts, load) };
}

function environmentIssues(bursts: readonly BurstHostHealth[], load: readonly GeneratorLoad[]): string[] {
  const issues: string[] = [];
  const stolen = bursts.filter((burst) => burst.flags.includes('cpu-steal'));
  if (stolen.length > 0) {
    const peak = Math.max(...stolen.map((burst) => burst.figures.stealPercent ?? 0));
    issues.push(`CPU steal up to ${peak.toFixed(1)} % (${burstList(stolen)}): the hypervisor gave the target's CPU to other machines`);
  }
  const saturated = load.filter((burst) => burst.generatorCpu > HEALTH_THRESHOLDS.generatorCpu);
  if (saturated.length > 0) {
    const peak = Math.max(...saturated.map((burst) => burst.generatorCpu));
    const labels = saturated.map((burst) => burstLabel({ burstIndex: burst.index, target: burst.target })).join(', ');
    issues.push(
      `load generator at up to ${Math.round(peak * 100)} % of a core (${labels}): latencies measured the generator, not the server`,
    );
  }
  return issues;
}

/** "the kernel killed gunicorn (pid 812, 410 MB) at 14:02:11 UTC" */
export function describeOomKill(kill: OomKill): string {
  const size = kill.anonRssMb === null ? '' : `, ${kill.anonRssMb} MB`;
  const limit = kill.scope === 'memory-cgroup' ? ' at its memory cgroup limit' : '';
  const at = kill.atEpochSec === null ? '' : ` at ${formatClock(kill.atEpochSec)}`;
  return `the kernel killed ${kill.name} (pid ${kill.pid}${size})${limit}${at}`;
}

export function formatClock(epochSec: number): string {
  return `${new Date(epochSec * 1000).toISOString().slice(11, 19)} UTC`;
}

export function burstLabel(burst: Pick<BurstHostHealth, 'burstIndex' | 'target'>): string {
  return `${burst.target === 'baseline' ? 'baseline ' : ''}burst ${burst.burstIndex + 1}`;
}

function burstList(bursts: readonly BurstHostHealth[]): string {
  return bursts.map(burstLabel).join(', ');
}
