// A burst's host samples reduced to the figures the report shows. Pure.

import { stealPercent } from './proc-parsers.ts';
import type { HostSample } from './sample-line.ts';
import type { ServiceBurstMemory } from './service-memory.ts';

/** Memory in KiB as /proc gives it; pages are the kernel's pages; null means not observed. */
export interface BurstHostFigures {
  samples: number;
  /** Seconds the samples span on the host's clock. */
  spanSec: number;
  memTotalKib: number | null;
  memAvailableBeforeKib: number | null;
  memAvailableMinKib: number | null;
  memAvailableAfterKib: number | null;
  swapTotalKib: number | null;
  swapUsedPeakKib: number | null;
  swapInPages: number;
  swapOutPages: number;
  majorFaults: number;
  /** Delta of /proc/vmstat oom_kill; null on kernels without the counter. */
  oomKills: number | null;
  /** Peak PSI memory avg10 (percent); null when the kernel has no PSI. */
  psiSomePeak: number | null;
  psiFullPeak: number | null;
  stealPercent: number | null;
  load1Peak: number | null;
  /** The watched service's memory (`service-match` / `service-unit`); absent when none is watched. */
  service?: ServiceBurstMemory | null;
  /** The baseline deployment's (`baseline-service-match`), in A/B mode. */
  baselineService?: ServiceBurstMemory | null;
}

export function burstFigures(samples: readonly HostSample[]): BurstHostFigures {
  const first = samples[0];
  const last = samples.at(-1);
  const delta = (counter: (sample: HostSample) => number | null): number | null => {
    if (!first || !last) return null;
    const before = counter(first);
    const after = counter(last);
    return before === null || after === null ? null : Math.max(0, after - before);
  };
  const available = samples.map((sample) => sample.meminfo.memAvailableKib);
  const swapUsed = samples.map(({ meminfo }) =>
    meminfo.swapTotalKib === null || meminfo.swapFreeKib === null ? null : meminfo.swapTotalKib - meminfo.swapFreeKib,
  );
  return {
    samples: samples.length,
    spanSec: first && last ? last.uptimeSec - first.uptimeSec : 0,
    memTotalKib: first?.meminfo.memTotalKib ?? null,
    memAvailableBeforeKib: first?.meminfo.memAvailableKib ?? null,
    memAvailableMinKib: extreme(Math.min, available),
    memAvailableAfterKib: last?.meminfo.memAvailableKib ?? null,
    swapTotalKib: last?.meminfo.swapTotalKib ?? null,
    swapUsedPeakKib: extreme(Math.max, swapUsed),
    swapInPages: delta((sample) => sample.vmstat.pswpin) ?? 0,
    swapOutPages: delta((sample) => sample.vmstat.pswpout) ?? 0,
    majorFaults: delta((sample) => sample.vmstat.pgmajfault) ?? 0,
    oomKills: delta((sample) => sample.vmstat.oomKill),
    psiSomePeak: extreme(
      Math.max,
      samples.map((sample) => sample.pressure.someAvg10),
    ),
    psiFullPeak: extreme(
      Math.max,
      samples.map((sample) => sample.pressure.fullAvg10),
    ),
    stealPercent: first?.cpu && last?.cpu ? stealPercent(first.cpu, last.cpu) : null,
    load1Peak: extreme(
      Math.max,
      samples.map((sample) => sample.loadavg?.load1 ?? null),
    ),
  };
}

/** The smallest or largest of the known values; null when none is known. */
export function extreme(pick: (...values: number[]) => number, values: ReadonlyArray<number | null>): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length > 0 ? pick(...known) : null;
}
