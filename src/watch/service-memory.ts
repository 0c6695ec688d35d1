// The service's own memory: the /proc and cgroup files the sampler reads for the service's
// processes, and a burst's samples reduced to its memory figures. Pure.

import type { ServiceSelector } from '../config/settings.ts';

export type { ServiceSelector };

/**
 * A selector resolved on the host before any load: a pattern for `pgrep -f`, or the unit's cgroup
 * directory (v2: memory.current/memory.peak; v1: the memory controller's usage files).
 */
export type ServiceProbe =
  | { kind: 'match'; pattern: string; label: string }
  | { kind: 'cgroup'; unit: string; directory: string; version: 1 | 2; label: string };

/** PSS counts a page shared by N workers as 1/N to each: their sum is what the service really holds. */
export type ServiceMemorySource = 'pss' | 'rss' | 'cgroup';

export interface ServiceProcessSample {
  pid: number;
  /** From /proc/PID/smaps_rollup; null when it is not readable (another user's process, kernel < 4.14). */
  pssKib: number | null;
  /** VmRSS of /proc/PID/status, readable for every process. */
  rssKib: number;
  /** The parent's pid; absent in samples from samplers before it was read. */
  parentPid?: number;
  /** The command line shortened by `shortCommand`; absent as above. */
  command?: string;
}

/** One sample of the service: its processes (capped) and, for a unit, its cgroup's figures. */
export interface ServiceSample {
  processes: ServiceProcessSample[];
  /** Processes matched, also those past the sampler's cap. */
  processCount: number;
  cgroupCurrentKib: number | null;
  /** The cgroup's own peak since it was created (memory.peak / max_usage_in_bytes), not the burst's. */
  cgroupPeakKib: number | null;
}

/** /proc/PID/smaps_rollup → Pss and Rss in KiB; null fields when the text lacks them. */
export function parseSmapsRollup(text: string): { pssKib: number | null; rssKib: number | null } {
  return { pssKib: kibField(text, 'Pss'), rssKib: kibField(text, 'Rss') };
}

/** /proc/PID/status → VmRSS and VmHWM in KiB; both null for a kernel thread (it has no memory of its own). */
export function parseProcStatus(text: string): { rssKib: number | null; peakRssKib: number | null } {
  return { rssKib: kibField(text, 'VmRSS'), peakRssKib: kibField(text, 'VmHWM') };
}

/**
 * A cgroup memory file in bytes (v2 memory.current / memory.peak, v1 memory.usage_in_bytes /
 * max_usage_in_bytes) → KiB. `max` (v2's "no limit" in memory.max) and anything else → null.
 */
export function parseCgroupBytes(text: string): number | null {
  const match = /^\s*(\d+)\s*$/.exec(text);
  return match ? Math.round(Number(match[1]) / 1024) : null;
}

function kibField(text: string, name: string): number | null {
  const match = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** Words of a command line kept at most: the program and what it runs, before any option. */
const COMMAND_WORDS = 3;
const COMMAND_WORD_CHARS = 40;
/** The longest command `shortCommand` returns. */
export const SHORT_COMMAND_MAX_CHARS = COMMAND_WORDS * (COMMAND_WORD_CHARS + 1);

/**
 * A command line as the report and the public history may show it. Command lines can hold secrets
 * (`--password x`, `DATABASE_URL=postgres://user:pass@db`): only the leading words are kept, each
 * without its directory, up to the first that looks like an option, an assignment, a URL or an
 * address, or is long (a key or a token) or holds other characters. `/usr/bin/python3
 * /usr/bin/gunicorn --workers 2 app.wsgi` → `python3 gunicorn`; `gunicorn: worker [app]` stays.
 */
export function shortCommand(commandLine: string): string {
  const kept: string[] = [];
  for (const word of commandLine.split(/\s+/).filter((part) => part !== '')) {
    const name = word.replace(/^.*\//, '');
    const plain = /^[A-Za-z0-9._:[\]+,]+$/.test(name) && !name.startsWith('-') && !word.includes('://');
    if (kept.length === COMMAND_WORDS || !plain || name.length > COMMAND_WORD_CHARS) break;
    kept.push(name);
  }
  return kept.join(' ');
}

/**
 * Decodes the sampler's service segment: `p PID PSS RSS PPID COMMAND…` per process (PSS `-` when
 * unreadable; older samplers send no PPID and command), `cg cur|peak BYTES` for a unit's cgroup,
 * `n COUNT` last. Null when the segment is not one.
 */
export function parseServiceSegment(text: string): ServiceSample | null {
  const processes: ServiceProcessSample[] = [];
  let processCount: number | null = null;
  let cgroupCurrentKib: number | null = null;
  let cgroupPeakKib: number | null = null;
  for (const line of text.split('\n')) {
    const [tag, ...fields] = line.trim().split(/\s+/);
    if (tag === 'p' && fields.length >= 3) {
      const [pid, pss, rss, parent, ...command] = fields as [string, string, string, string | undefined, ...string[]];
      if (!/^\d+$/.test(pid) || !/^\d+$/.test(rss)) continue;
      processes.push({
        pid: Number(pid),
        pssKib: /^\d+$/.test(pss) ? Number(pss) : null,
        rssKib: Number(rss),
        ...(parent !== undefined && /^\d+$/.test(parent) && { parentPid: Number(parent), command: shortCommand(command.join(' ')) }),
      });
    } else if (tag === 'cg' && fields.length === 2) {
      const kib = parseCgroupBytes(fields[1]!);
      if (fields[0] === 'cur') cgroupCurrentKib = kib;
      if (fields[0] === 'peak') cgroupPeakKib = kib;
    } else if (tag === 'n' && fields.length === 1 && /^\d+$/.test(fields[0]!)) {
      processCount = Number(fields[0]);
    }
  }
  if (processCount === null) return null;
  return { processes, processCount, cgroupCurrentKib, cgroupPeakKib };
}

/** One matched process over a burst: its largest figure, by PSS (or RSS where PSS was unreadable). */
export interface ServiceProcessPeak {
  pid: number;
  /** Shortened by `shortCommand`. */
  command: string;
  /** Its parent is matched too: a worker of a pre-fork server (gunicorn, uwsgi, php-fpm), not its master. */
  worker: boolean;
  peakKib: number;
}

/** Processes a burst lists, largest first: a pre-fork server's master and workers, not a long tail. */
export const PROCESS_PEAKS_KEPT = 16;

/** The service's memory during one burst. */
export interface ServiceBurstMemory {
  label: string;
  source: ServiceMemorySource;
  samples: number;
  /** The largest total over the burst's samples. */
  peakKib: number;
  /** Processes in the sample that held the peak. */
  processesAtPeak: number;
  processesMax: number;
  /** The largest single process seen in any sample (PSS when every process had it, else RSS). */
  largestProcessKib: number | null;
  largestProcessPid: number | null;
  cgroupPeakKib: number | null;
  /**
   * Each matched process's peak, largest first (at most PROCESS_PEAKS_KEPT), measured by `measure`;
   * absent from samplers that sent no command lines.
   */
  processPeaks?: { measure: 'pss' | 'rss'; processes: ServiceProcessPeak[] };
}

/** A burst's service samples (null where a sample had none) → its memory figures; null when none came. */
export function serviceBurstMemory(label: string, samples: ReadonlyArray<ServiceSample | null>): ServiceBurstMemory | null {
  const known = samples.filter((sample): sample is ServiceSample => sample !== null);
  if (known.length === 0) return null;
  const everyPss = known.every((sample) => sample.processes.every((process) => process.pssKib !== null));
  const perProcess = (process: ServiceProcessSample) => (everyPss ? process.pssKib! : process.rssKib);
  const source: ServiceMemorySource = known.every((sample) => sample.cgroupCurrentKib !== null) ? 'cgroup' : everyPss ? 'pss' : 'rss';
  const totalOf = (sample: ServiceSample) =>
    source === 'cgroup' ? sample.cgroupCurrentKib! : sample.processes.reduce((sum, process) => sum + perProcess(process), 0);
  let peak = known[0]!;
  for (const sample of known) if (totalOf(sample) > totalOf(peak)) peak = sample;
  let largest: ServiceProcessSample | null = null;
  for (const process of known.flatMap((sample) => sample.processes)) {
    if (largest === null || perProcess(process) > perProcess(largest)) largest = process;
  }
  const cgroupPeaks = known.map((sample) => sample.cgroupPeakKib).filter((kib): kib is number => kib !== null);
  const peaks = processPeaksOf(known, perProcess);
  return {
    label,
    source,
    samples: known.length,
    peakKib: totalOf(peak),
    processesAtPeak: peak.processCount,
    processesMax: Math.max(...known.map((sample) => sample.processCount)),
    largestProcessKib: largest === null ? null : perProcess(largest),
    largestProcessPid: largest?.pid ?? null,
    cgroupPeakKib: cgroupPeaks.length > 0 ? Math.max(...cgroupPeaks) : null,
    ...(peaks.length > 0 && { processPeaks: { measure: everyPss ? 'pss' : 'rss', processes: peaks } }),
  };
}

/** Each process's largest figure over the samples, by pid; only processes whose command line was read. */
function processPeaksOf(samples: readonly ServiceSample[], perProcess: (process: ServiceProcessSample) => number): ServiceProcessPeak[] {
  const byPid = new Map<number, ServiceProcessPeak>();
  for (const sample of samples) {
    const matched = new Set(sample.processes.map((process) => process.pid));
    for (const process of sample.processes) {
      if (process.command === undefined) continue;
      const kib = perProcess(process);
      const known = byPid.get(process.pid);
      if (known && known.peakKib >= kib) continue;
      const worker = process.parentPid !== undefined && matched.has(process.parentPid);
      byPid.set(process.pid, { pid: process.pid, command: process.command, worker, peakKib: kib });
    }
  }
  return [...byPid.values()].sort((a, b) => b.peakKib - a.peakKib).slice(0, PROCESS_PEAKS_KEPT);
}

/** A process as the history keeps it: no pid (it differs each run), a shortened command line. */
export type StoredProcessPeak = Omit<ServiceProcessPeak, 'pid'>;

/** Processes a stored run keeps: enough for a master and its workers, a few hundred bytes. */
export const STORED_PROCESS_PEAKS = 8;

/** What a run keeps in the history: its peak and what it was measured on, a few bytes per run. */
export interface StoredServiceMemory {
  label: string;
  source: ServiceMemorySource;
  peakKib: number;
  processes: number;
  /** Its largest processes in the burst of the peak, largest first; absent in runs stored before it was kept. */
  perProcess?: StoredProcessPeak[];
}

/** The peak over bursts (the run's figure); null when no burst measured the service. */
export function runServiceMemory(bursts: ReadonlyArray<ServiceBurstMemory | null | undefined>): StoredServiceMemory | null {
  let peak: ServiceBurstMemory | null = null;
  for (const burst of bursts) if (burst && (peak === null || burst.peakKib > peak.peakKib)) peak = burst;
  if (peak === null) return null;
  const perProcess = peak.processPeaks?.processes
    .slice(0, STORED_PROCESS_PEAKS)
    .map(({ command, worker, peakKib }) => ({ command, worker, peakKib }));
  return {
    label: peak.label,
    source: peak.source,
    peakKib: peak.peakKib,
    processes: peak.processesAtPeak,
    ...(perProcess && { perProcess }),
  };
}

/** A stored figure as read back from a history file written by any version: checked, never trusted. */
export function storedServiceMemoryOf(value: unknown): StoredServiceMemory | null {
  if (typeof value !== 'object' || value === null) return null;
  const { label, source, peakKib, processes, perProcess } = value as Record<string, unknown>;
  const sources: unknown[] = ['pss', 'rss', 'cgroup'];
  if (typeof label !== 'string' || !sources.includes(source)) return null;
  if (typeof peakKib !== 'number' || !(peakKib > 0) || typeof processes !== 'number' || !(processes >= 0)) return null;
  const stored = { label, source: source as ServiceMemorySource, peakKib, processes };
  return Array.isArray(perProcess) && perProcess.every(isStoredProcessPeak) ? { ...stored, perProcess } : stored;
}

function isStoredProcessPeak(value: unknown): value is StoredProcessPeak {
  if (typeof value !== 'object' || value === null) return false;
  const { command, worker, peakKib } = value as Record<string, unknown>;
  return typeof command === 'string' && typeof worker === 'boolean' && typeof peakKib === 'number' && peakKib >= 0;
}

/** `python3 gunicorn`, or `python3 gunicorn worker` for a process whose parent is matched too. */
export function processName(process: StoredProcessPeak): string {
  return `${process.command || '(no command line)'}${process.worker ? ' worker' : ''}`;
}

export const SOURCE_WORDS: Record<ServiceMemorySource, string> = {
  pss: 'PSS (shared pages split between processes)',
  rss: 'RSS (shared pages counted in every process; PSS needs read access to /proc/PID/smaps_rollup)',
  cgroup: "the unit's cgroup (memory.current / memory.usage_in_bytes)",
};

/** The processes `ps` listed, grouped by name, largest first: what the user may have meant. */
export function describeServiceCandidates(psOutput: string, limit = 6): string {
  const byName = new Map<string, { count: number; kib: number }>();
  for (const line of psOutput.split('\n')) {
    const match = /^\s*(\d+)\s+(\S.*?)\s*$/.exec(line);
    if (!match || match[1] === '0') continue;
    const entry = byName.get(match[2]!) ?? { count: 0, kib: 0 };
    entry.count += 1;
    entry.kib += Number(match[1]);
    byName.set(match[2]!, entry);
  }
  const names = [...byName.entries()].sort((a, b) => b[1].kib - a[1].kib).slice(0, limit);
  if (names.length === 0) return 'none found';
  return names
    .map(([name, { count, kib }]) => `${name} (${count === 1 ? '1 process' : `${count} processes`}, ${formatMb(kib)})`)
    .join(', ');
}

/** KiB → "612 MB" (MiB, as `free -m` and the rest of the report count them). */
export function formatMb(kib: number): string {
  const mb = kib / 1024;
  return `${mb >= 10 ? Math.round(mb) : mb.toFixed(1)} MB`;
}

/** The services' figures of one burst, keyed as BurstHostFigures holds them; {} when none is watched. */
export function serviceFiguresOf(
  samples: ReadonlyArray<{ services: ReadonlyArray<ServiceSample | null> }>,
  services: { candidate?: ServiceProbe; baseline?: ServiceProbe },
): { service?: ServiceBurstMemory | null; baselineService?: ServiceBurstMemory | null } {
  const figures: { service?: ServiceBurstMemory | null; baselineService?: ServiceBurstMemory | null } = {};
  let index = 0;
  if (services.candidate)
    figures.service = serviceBurstMemory(
      services.candidate.label,
      samples.map((sample) => sample.services[index] ?? null),
    );
  if (services.candidate) index += 1;
  if (services.baseline)
    figures.baselineService = serviceBurstMemory(
      services.baseline.label,
      samples.map((sample) => sample.services[index] ?? null),
    );
  return figures;
}
