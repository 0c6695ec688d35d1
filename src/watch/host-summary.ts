// The "Host under load" part of the report as a model built from the bursts' health (report/
// renders it). Pure.

import { extreme, type BurstHostFigures } from './burst-figures.ts';
import type { CrashLine } from './crash-patterns.ts';
import { formatMib } from '../units.ts';
import { describeMachine, machineDifferences, type HostMachine } from './machine.ts';
import { describeOomKill, type BurstHostHealth, type HealthFlag } from './health.ts';
import type { OomKill } from './kernel-log.ts';

/** Figures whose meaning over a run is the burst's: first, last, extreme or sum over the bursts. */
type RunWideFigure =
  | 'memTotalKib'
  | 'memAvailableBeforeKib'
  | 'memAvailableMinKib'
  | 'memAvailableAfterKib'
  | 'swapTotalKib'
  | 'swapUsedPeakKib'
  | 'swapInPages'
  | 'swapOutPages'
  | 'majorFaults'
  | 'psiSomePeak'
  | 'psiFullPeak';

/** One run's host figures over all its bursts; small and plain so a baseline can store it. */
export interface HostRunSummary extends Pick<BurstHostFigures, RunWideFigure> {
  label: string;
  bursts: number;
  stealPercentPeak: number | null;
  oomKills: number;
  crashLines: number;
  /** Every flag any burst raised, `ok` only when none did. */
  flags: HealthFlag[];
}

export type HostUnderLoad =
  | { observed: false; note: string }
  | {
      observed: true;
      /** This run first; in A/B mode the live baseline next; then a stored baseline's summary. */
      runs: HostRunSummary[];
      /** One plain sentence: what happened to the host. */
      diagnosis: string;
      kills: OomKill[];
      /** Quoted logs-command lines, capped. */
      crashLines: CrashLine[];
      machine: string;
      /** Non-empty when the stored baseline was measured on a different machine. */
      baselineMachineDifferences: string[];
      gaps: string[];
    };

export interface HostUnderLoadInput {
  bursts: readonly BurstHostHealth[];
  machine: HostMachine;
  storedBaseline?: { run?: HostRunSummary; machine?: HostMachine };
}

export const NOT_OBSERVED_NOTE =
  'Host health was not observed: no `host` was given, so memory, swap, OOM kills and crashes on the target are unknown.';

const QUOTED_LINES_IN_REPORT = 10;

/** `null` input means the run had no `host`. */
export function hostUnderLoad(input: HostUnderLoadInput | null): HostUnderLoad {
  if (input === null) return { observed: false, note: NOT_OBSERVED_NOTE };
  const { bursts, machine, storedBaseline } = input;
  const candidate = bursts.filter((burst) => burst.target === 'candidate');
  const liveBaseline = bursts.filter((burst) => burst.target === 'baseline');
  const runs = [summarizeHostRun('this run', candidate)];
  if (liveBaseline.length > 0) runs.push(summarizeHostRun('baseline (A/B)', liveBaseline));
  if (storedBaseline?.run) runs.push({ ...storedBaseline.run, label: 'baseline' });
  const kills = bursts.flatMap((burst) => burst.oomKills);
  return {
    observed: true,
    runs,
    diagnosis: diagnose(bursts, kills),
    kills,
    crashLines: bursts.flatMap((burst) => burst.crashLines.quoted).slice(0, QUOTED_LINES_IN_REPORT),
    machine: describeHost(machine),
    baselineMachineDifferences: storedBaseline?.machine ? machineDifferences(storedBaseline.machine, machine) : [],
    gaps: [...new Set(bursts.flatMap((burst) => burst.gaps))],
  };
}

export function summarizeHostRun(label: string, bursts: readonly BurstHostHealth[]): HostRunSummary {
  const figures = bursts.map((burst) => burst.figures);
  const flags = new Set(bursts.flatMap((burst) => burst.flags).filter((flag) => flag !== 'ok'));
  return {
    label,
    bursts: bursts.length,
    memTotalKib: figures[0]?.memTotalKib ?? null,
    memAvailableBeforeKib: figures[0]?.memAvailableBeforeKib ?? null,
    memAvailableMinKib: extreme(
      Math.min,
      figures.map((f) => f.memAvailableMinKib),
    ),
    memAvailableAfterKib: figures.at(-1)?.memAvailableAfterKib ?? null,
    swapTotalKib: figures.at(-1)?.swapTotalKib ?? null,
    swapUsedPeakKib: extreme(
      Math.max,
      figures.map((f) => f.swapUsedPeakKib),
    ),
    swapInPages: sum(figures.map((f) => f.swapInPages)),
    swapOutPages: sum(figures.map((f) => f.swapOutPages)),
    majorFaults: sum(figures.map((f) => f.majorFaults)),
    psiSomePeak: extreme(
      Math.max,
      figures.map((f) => f.psiSomePeak),
    ),
    psiFullPeak: extreme(
      Math.max,
      figures.map((f) => f.psiFullPeak),
    ),
    stealPercentPeak: extreme(
      Math.max,
      figures.map((f) => f.stealPercent),
    ),
    oomKills: sum(bursts.map((burst) => Math.max(burst.oomKills.length, burst.figures.oomKills ?? 0))),
    crashLines: sum(bursts.map((burst) => burst.crashLines.total)),
    flags: flags.size > 0 ? [...flags] : ['ok'],
  };
}

function diagnose(bursts: readonly BurstHostHealth[], kills: readonly OomKill[]): string {
  if (bursts.length === 0) return 'no burst ran, so the host was not watched under load';
  const run = summarizeHostRun('all', bursts);
  const swap = swapSentence(run);
  if (kills.length > 0) {
    const more = kills.length > 1 ? ` (and ${kills.length - 1} more OOM kill${kills.length > 2 ? 's' : ''})` : '';
    return `${describeOomKill(kills[0]!)}${more}; ${swap}`;
  }
  if (run.oomKills > 0) {
    return `the kernel OOM-killed ${run.oomKills === 1 ? 'a process' : `${run.oomKills} processes`} but the kernel log did not name ${run.oomKills === 1 ? 'it' : 'them'}; ${swap}`;
  }
  const crash = bursts.flatMap((burst) => burst.crashLines.quoted)[0];
  if (crash)
    return `the application logged a crash (${crash.kind}, ${run.crashLines} line${run.crashLines === 1 ? '' : 's'}) but the kernel killed nothing; ${swap}`;
  const memory = `MemAvailable fell to ${formatMib(run.memAvailableMinKib) ?? 'unknown'} of ${formatMib(run.memTotalKib) ?? 'unknown'}`;
  if (run.flags.includes('swapping')) return `the host swapped under load (${run.swapInPages} pages swapped in); ${memory}`;
  if (run.flags.includes('memory-pressure'))
    return `tasks waited for memory (PSI some peaked at ${run.psiSomePeak?.toFixed(1)} %); ${memory}`;
  const environment = [
    run.flags.includes('cpu-steal') ? `the hypervisor stole up to ${run.stealPercentPeak?.toFixed(1)} % of the CPU` : null,
    run.flags.includes('generator-saturated') ? 'the load generator saturated its core' : null,
  ].filter((part) => part !== null);
  if (environment.length > 0) return `the host kept up but ${environment.join(' and ')}; ${memory}`;
  return `the host stayed healthy: MemAvailable stayed at or above ${formatMib(run.memAvailableMinKib) ?? 'unknown'} of ${formatMib(run.memTotalKib) ?? 'unknown'}, no swapping, no OOM kills, no crash lines`;
}

function swapSentence(run: HostRunSummary): string {
  if (run.swapTotalKib === null) return 'swap unknown';
  if (run.swapTotalKib === 0) return 'no swap was active';
  if (run.swapInPages > 0 || (run.swapUsedPeakKib ?? 0) > 0) {
    return `swap was in use (peak ${formatMib(run.swapUsedPeakKib)}, ${run.swapInPages} pages swapped in)`;
  }
  return `swap (${formatMib(run.swapTotalKib)}) was active but unused`;
}

function describeHost(machine: HostMachine): string {
  const cpu = `${machine.cpuCount} × ${machine.cpuModel ?? 'unknown CPU'}`;
  const memory = `${formatMib(machine.memTotalKib) ?? 'unknown'} RAM`;
  const swap = machine.swapTotalKib ? `${formatMib(machine.swapTotalKib)} swap` : 'no swap';
  return [describeMachine(machine), cpu, memory, swap, `kernel ${machine.kernel}`].filter((part) => part !== null).join(', ');
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
