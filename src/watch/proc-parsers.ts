// Parsers for the /proc files the host watch reads. Pure: they take the text a file held (or the
// lines of it the sampler kept) and never touch the filesystem.

/** The /proc/meminfo fields we use, in KiB (the file's "kB"). Missing fields are null. */
export interface Meminfo {
  memTotalKib: number | null;
  memAvailableKib: number | null;
  swapTotalKib: number | null;
  swapFreeKib: number | null;
}

export function parseMeminfo(text: string): Meminfo {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([\w()]+):\s+(\d+)/.exec(line.trim());
    if (match) fields.set(match[1]!, Number(match[2]));
  }
  const kib = (name: string) => fields.get(name) ?? null;
  return {
    memTotalKib: kib('MemTotal'),
    memAvailableKib: kib('MemAvailable'),
    swapTotalKib: kib('SwapTotal'),
    swapFreeKib: kib('SwapFree'),
  };
}

/** Cumulative /proc/vmstat counters since boot. `oomKill` is null on kernels older than 4.13. */
export interface Vmstat {
  pswpin: number;
  pswpout: number;
  pgmajfault: number;
  oomKill: number | null;
}

export function parseVmstat(text: string): Vmstat {
  const counters = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)\s+(\d+)\s*$/.exec(line.trim());
    if (match) counters.set(match[1]!, Number(match[2]));
  }
  return {
    pswpin: counters.get('pswpin') ?? 0,
    pswpout: counters.get('pswpout') ?? 0,
    pgmajfault: counters.get('pgmajfault') ?? 0,
    oomKill: counters.get('oom_kill') ?? null,
  };
}

/** avg10 of /proc/pressure/memory in percent; null when the kernel has no PSI (unknown, not zero). */
export interface MemoryPressure {
  someAvg10: number | null;
  fullAvg10: number | null;
}

export function parsePressure(text: string): MemoryPressure {
  const avg10 = (kind: 'some' | 'full') => {
    const match = new RegExp(`^${kind}\\s.*\\bavg10=([\\d.]+)`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  };
  return { someAvg10: avg10('some'), fullAvg10: avg10('full') };
}

/** The aggregate `cpu` line of /proc/stat, in clock ticks since boot. */
export interface CpuTimes {
  /** user + nice + system + idle + iowait + irq + softirq + steal (guest time is already in user). */
  total: number;
  steal: number;
}

export function parseStatCpu(text: string): CpuTimes | null {
  const match = /^cpu\s+([\d\s]+)$/m.exec(text);
  if (!match) return null;
  const ticks = match[1]!.trim().split(/\s+/).map(Number).slice(0, 8);
  return { total: ticks.reduce((sum, value) => sum + value, 0), steal: ticks[7] ?? 0 };
}

/** Boot time (`btime` of /proc/stat), seconds since the epoch on the host's clock. */
export function parseBootTime(text: string): number | null {
  const match = /^btime\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** Steal as a percentage of all CPU time between two samples; null when no time passed. */
export function stealPercent(earlier: CpuTimes, later: CpuTimes): number | null {
  const elapsed = later.total - earlier.total;
  if (elapsed <= 0) return null;
  return ((later.steal - earlier.steal) / elapsed) * 100;
}

export interface Loadavg {
  load1: number;
  load5: number;
  load15: number;
}

export function parseLoadavg(text: string): Loadavg | null {
  const match = /^\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(text);
  if (!match) return null;
  return { load1: Number(match[1]), load5: Number(match[2]), load15: Number(match[3]) };
}
