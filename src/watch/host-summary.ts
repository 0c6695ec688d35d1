// The "Host under load" part of the report: a model built from the bursts' health, and its
// markdown. Pure.

import { markdownTable } from 'markdown-table';
import { inertProse } from '../report/untrusted-text.ts';
import { extreme } from './burst-figures.ts';
import type { CrashLine } from './crash-patterns.ts';
import { describeMachine, fingerprintDifferences, formatMib, type HostFingerprint } from './fingerprint.ts';
import { describeOomKill, type BurstHostHealth, type HealthFlag } from './health.ts';
import type { OomKill } from './kernel-log.ts';

/** One run's host figures over all its bursts; small and plain so a baseline can store it. */
export interface HostRunSummary {
  label: string;
  bursts: number;
  memTotalKib: number | null;
  memAvailableBeforeKib: number | null;
  memAvailableMinKib: number | null;
  memAvailableAfterKib: number | null;
  swapTotalKib: number | null;
  swapUsedPeakKib: number | null;
  swapInPages: number;
  swapOutPages: number;
  majorFaults: number;
  psiSomePeak: number | null;
  psiFullPeak: number | null;
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
  fingerprint: HostFingerprint;
  storedBaseline?: { run?: HostRunSummary; fingerprint?: HostFingerprint };
}

export const NOT_OBSERVED_NOTE =
  'Host health was not observed: no `host` was given, so memory, swap, OOM kills and crashes on the target are unknown.';

const QUOTED_LINES_IN_REPORT = 10;
/** The diagnosis names a killed process and the swap state; gaps list every unobserved source. */
const DIAGNOSIS_CHARS = 1_000;

/** `null` input means the run had no `host`. */
export function hostUnderLoad(input: HostUnderLoadInput | null): HostUnderLoad {
  if (input === null) return { observed: false, note: NOT_OBSERVED_NOTE };
  const { bursts, fingerprint, storedBaseline } = input;
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
    machine: describeHost(fingerprint),
    baselineMachineDifferences: storedBaseline?.fingerprint ? fingerprintDifferences(storedBaseline.fingerprint, fingerprint) : [],
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
    memAvailableMinKib: extreme(Math.min, figures.map((f) => f.memAvailableMinKib)),
    memAvailableAfterKib: figures.at(-1)?.memAvailableAfterKib ?? null,
    swapTotalKib: figures.at(-1)?.swapTotalKib ?? null,
    swapUsedPeakKib: extreme(Math.max, figures.map((f) => f.swapUsedPeakKib)),
    swapInPages: sum(figures.map((f) => f.swapInPages)),
    swapOutPages: sum(figures.map((f) => f.swapOutPages)),
    majorFaults: sum(figures.map((f) => f.majorFaults)),
    psiSomePeak: extreme(Math.max, figures.map((f) => f.psiSomePeak)),
    psiFullPeak: extreme(Math.max, figures.map((f) => f.psiFullPeak)),
    stealPercentPeak: extreme(Math.max, figures.map((f) => f.stealPercent)),
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
  if (crash) return `the application logged a crash (${crash.kind}, ${run.crashLines} line${run.crashLines === 1 ? '' : 's'}) but the kernel killed nothing; ${swap}`;
  const memory = `MemAvailable fell to ${formatMib(run.memAvailableMinKib) ?? 'unknown'} of ${formatMib(run.memTotalKib) ?? 'unknown'}`;
  if (run.flags.includes('swapping')) return `the host swapped under load (${run.swapInPages} pages swapped in); ${memory}`;
  if (run.flags.includes('memory-pressure')) return `tasks waited for memory (PSI some peaked at ${run.psiSomePeak?.toFixed(1)} %); ${memory}`;
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

function describeHost(fingerprint: HostFingerprint): string {
  const cpu = `${fingerprint.cpuCount} × ${fingerprint.cpuModel ?? 'unknown CPU'}`;
  const memory = `${formatMib(fingerprint.memTotalKib) ?? 'unknown'} RAM`;
  const swap = fingerprint.swapTotalKib ? `${formatMib(fingerprint.swapTotalKib)} swap` : 'no swap';
  const machine = describeMachine(fingerprint);
  return [machine, cpu, memory, swap, `kernel ${fingerprint.kernel}`].filter((part) => part !== null).join(', ');
}

const COLUMNS = [
  '',
  'MemAvailable before',
  'min',
  'after',
  'Swap used peak',
  'Swap-in pages',
  'PSI some peak',
  'Steal',
  'OOM kills',
  'Crash lines',
];

export function renderHostUnderLoad(model: HostUnderLoad): string {
  if (!model.observed) return `### Host under load\n\n${model.note}\n`;
  const rows = model.runs.map((run) => [
    run.label,
    formatMib(run.memAvailableBeforeKib) ?? '–',
    formatMib(run.memAvailableMinKib) ?? '–',
    formatMib(run.memAvailableAfterKib) ?? '–',
    run.swapTotalKib === 0 ? 'no swap' : (formatMib(run.swapUsedPeakKib) ?? '–'),
    String(run.swapInPages),
    run.psiSomePeak === null ? 'unknown' : `${run.psiSomePeak.toFixed(1)} %`,
    run.stealPercentPeak === null ? '–' : `${run.stealPercentPeak.toFixed(1)} %`,
    String(run.oomKills),
    String(run.crashLines),
  ].map((value) => inertProse(value)));
  const parts = [
    '### Host under load',
    `**Diagnosis:** ${inertProse(capitalize(model.diagnosis), { maxChars: DIAGNOSIS_CHARS })}.`,
    markdownTable([COLUMNS, ...rows], { align: ['l', ...COLUMNS.slice(1).map(() => 'r')] }),
  ];
  if (model.crashLines.length > 0) {
    parts.push(`Crash lines from \`logs-command\`:\n\n${fenced(model.crashLines.map((crash) => crash.line))}`);
  }
  // The machine, its differences and the gaps quote the host (kernel, CPU model, command errors).
  parts.push(`Host: ${inertProse(model.machine, { maxChars: DIAGNOSIS_CHARS })}.`);
  if (model.baselineMachineDifferences.length > 0) {
    const differences = inertProse(model.baselineMachineDifferences.join('; '), { maxChars: DIAGNOSIS_CHARS });
    parts.push(`> [!WARNING]\n> The baseline was measured on a different machine (${differences}): latencies may not be comparable.`);
  }
  if (model.gaps.length > 0) parts.push(`Not observed: ${inertProse(model.gaps.join('; '), { maxChars: DIAGNOSIS_CHARS })}.`);
  return `${parts.join('\n\n')}\n`;
}

/** A code block whose fence is longer than any backtick run inside, so quoted lines cannot end it. */
function fenced(lines: readonly string[]): string {
  const longestRun = Math.max(0, ...lines.flatMap((line) => (line.match(/`+/g) ?? []).map((run) => run.length)));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}text\n${lines.join('\n')}\n${fence}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
