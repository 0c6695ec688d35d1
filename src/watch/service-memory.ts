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

/**
 * Decodes the sampler's service segment: `p PID PSS RSS` per process (PSS `-` when unreadable),
 * `cg cur|peak BYTES` for a unit's cgroup, `n COUNT` last. Null when the segment is not one.
 */
export function parseServiceSegment(text: string): ServiceSample | null {
  const processes: ServiceProcessSample[] = [];
  let processCount: number | null = null;
  let cgroupCurrentKib: number | null = null;
  let cgroupPeakKib: number | null = null;
  for (const line of text.split('\n')) {
    const [tag, ...fields] = line.trim().split(/\s+/);
    if (tag === 'p' && fields.length === 3) {
      const [pid, pss, rss] = fields as [string, string, string];
      if (!/^\d+$/.test(pid) || !/^\d+$/.test(rss)) continue;
      processes.push({ pid: Number(pid), pssKib: /^\d+$/.test(pss) ? Number(pss) : null, rssKib: Number(rss) });
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
  };
}

/** What a run keeps in the history: its peak and what it was measured on, a few bytes per run. */
export interface StoredServiceMemory {
  label: string;
  source: ServiceMemorySource;
  peakKib: number;
  processes: number;
}

/** The peak over bursts (the run's figure); null when no burst measured the service. */
export function runServiceMemory(bursts: ReadonlyArray<ServiceBurstMemory | null | undefined>): StoredServiceMemory | null {
  let peak: ServiceBurstMemory | null = null;
  for (const burst of bursts) if (burst && (peak === null || burst.peakKib > peak.peakKib)) peak = burst;
  return peak && { label: peak.label, source: peak.source, peakKib: peak.peakKib, processes: peak.processesAtPeak };
}

/** A stored figure as read back from a history file written by any version: checked, never trusted. */
export function storedServiceMemoryOf(value: unknown): StoredServiceMemory | null {
  if (typeof value !== 'object' || value === null) return null;
  const { label, source, peakKib, processes } = value as Record<string, unknown>;
  const sources: unknown[] = ['pss', 'rss', 'cgroup'];
  if (typeof label !== 'string' || !sources.includes(source)) return null;
  if (typeof peakKib !== 'number' || !(peakKib > 0) || typeof processes !== 'number' || !(processes >= 0)) return null;
  return { label, source: source as ServiceMemorySource, peakKib, processes };
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
