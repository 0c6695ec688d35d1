// Burst health built the way the watch builds it: sampler lines through the real decoder.

import assert from 'node:assert/strict';
import type { BurstHostFigures } from '../../src/watch/burst-figures.ts';
import { INPUT_DEFAULTS } from '../../src/config/input-defaults.ts';
import { scanCrashLines } from '../../src/watch/crash-patterns.ts';
import { healthFlags, type BurstHostHealth } from '../../src/watch/health.ts';
import { parseSampleLine, type HostSample } from '../../src/watch/sample-line.ts';

interface SampleSpec {
  uptime: number;
  availableKib: number;
  swapFreeKib?: number;
  pswpin?: number;
  oomKill?: number;
  psiSome?: number;
  steal?: number;
  idle?: number;
}

/** A sampler line as the remote script prints it, decoded by the real decoder. */
export function sample(spec: SampleSpec): HostSample {
  const psi =
    spec.psiSome === undefined
      ? ''
      : `some avg10=${spec.psiSome} avg60=0 avg300=0 total=1;full avg10=${spec.psiSome / 2} avg60=0 avg300=0 total=1`;
  const line = [
    `${spec.uptime} 0`,
    `MemTotal: 995568 kB;MemAvailable: ${spec.availableKib} kB;SwapTotal: 1048576 kB;SwapFree: ${spec.swapFreeKib ?? 1048576} kB`,
    `pswpin ${spec.pswpin ?? 0};pswpout 0;pgmajfault ${spec.uptime};oom_kill ${spec.oomKill ?? 0}`,
    `cpu  ${spec.uptime * 100} 0 0 ${spec.idle ?? spec.uptime * 100} 0 0 0 ${spec.steal ?? 0} 0 0;btime 1700000000`,
    psi,
    '0.10 0.10 0.10 1/100 1',
  ].join('|');
  const decoded = parseSampleLine(line);
  assert.ok(decoded, line);
  return decoded;
}

export function health(overrides: Partial<BurstHostHealth> & { figures: BurstHostFigures }): BurstHostHealth {
  const base = {
    burstIndex: 0,
    target: 'candidate' as const,
    startedAt: '2024-05-01T14:02:00.000Z',
    oomKills: [],
    crashLines: scanCrashLines([]),
    generatorCpu: 0.3,
    gaps: [],
    ...overrides,
  };
  return { ...base, flags: healthFlags({ ...base, maxStealPercent: DEFAULT_STEAL }) };
}

/** `max-cpu-steal` for tests whose subject is not steal: this machine's hypervisor steals 5–25 % at times. */
export const NOT_JUDGED_STEAL = 100;
/** The default of `max-cpu-steal`, in percent. */
export const DEFAULT_STEAL = Number.parseFloat(INPUT_DEFAULTS['max-cpu-steal']);
