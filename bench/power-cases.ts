// What the power benchmark measures: the service model with its run-to-run drift and injected
// slowdowns, the gate settings under test (profiles), and how many runs each case gets.
// Pure: the harness (bench/power.ts) turns these into target behaviours and real gate runs.

import type { TargetBehaviour } from '../src/demo/target.ts';
import type { RawInputs } from '../src/config/input-defaults.ts';

/**
 * The service: 20–30 ms for 90% of requests, 20 ms more for a 10% tail, so p50 (~25.6 ms) sits
 * in the body and p95 (~45 ms) in the middle of the tail: growing the tail moves p95 alone.
 */
export const SERVICE: Required<Pick<TargetBehaviour, 'delayMs' | 'jitterMs' | 'tailShare' | 'tailDelayMs'>> = {
  delayMs: 20,
  jitterMs: 10,
  tailShare: 0.1,
  tailDelayMs: 20,
};
/** Run-to-run drift: each run's service time is multiplied by a factor uniform in [1 − d, 1 + d]. */
export const RUN_DRIFT = 0.05;

/** `all`: every request slower (p50 and p95 move together); `tail`: only the slow tail grows (p95). */
export type SlowdownKind = 'all' | 'tail';
export interface Slowdown {
  kind: SlowdownKind;
  /** Fraction: 0.1 is +10%. */
  size: number;
}

export type Mode = 'stored' | 'ab';

export interface Profile {
  name: string;
  mode: Mode;
  /** Gate inputs on top of the harness's load inputs, exactly as a workflow would write them. */
  inputs: RawInputs;
  /** Why this profile is measured. */
  purpose: string;
}

export interface Case {
  profile: Profile;
  slowdown: Slowdown;
  /** Runs wanted; a time budget may stop a case short. */
  runs: number;
}

/** The model's p95: the quantile inside the tail group, e.g. its middle for a 10% tail. */
function modelP95(service: typeof SERVICE): number {
  const withinTail = (0.95 - (1 - service.tailShare)) / service.tailShare;
  return service.delayMs + service.tailDelayMs + withinTail * service.jitterMs;
}

/** The service for one run: drift scales every time; the slowdown applies on top. */
export function behaviourFor(drift: number, slowdown?: Slowdown): TargetBehaviour {
  const drifted = {
    ...SERVICE,
    delayMs: SERVICE.delayMs * drift,
    jitterMs: SERVICE.jitterMs * drift,
    tailDelayMs: SERVICE.tailDelayMs * drift,
  };
  if (!slowdown || slowdown.size === 0) return drifted;
  if (slowdown.kind === 'all') {
    const scale = 1 + slowdown.size;
    return { ...drifted, delayMs: drifted.delayMs * scale, jitterMs: drifted.jitterMs * scale, tailDelayMs: drifted.tailDelayMs * scale };
  }
  return { ...drifted, tailDelayMs: drifted.tailDelayMs + slowdown.size * modelP95(drifted) };
}

export function driftFrom(random: () => number): number {
  return 1 + RUN_DRIFT * (2 * random() - 1);
}

export function slowdownLabel(slowdown: Slowdown): string {
  if (slowdown.size === 0) return '0% (no change)';
  const percent = `+${Math.round(slowdown.size * 100)}%`;
  return slowdown.kind === 'all' ? `${percent} all requests (p50 and p95)` : `${percent} tail only (p95)`;
}

const defaults = (mode: Mode): Profile => ({
  name: `${mode}, defaults`,
  mode,
  inputs: {},
  purpose: 'the gate as a user gets it: max-median-increase 10%, max-p95-increase 15%, 5 bursts',
});

/** The full benchmark: defaults, and the settings that might meet the goals the defaults miss. */
export function fullPlan(): Case[] {
  const storedLow: Profile = {
    name: 'stored, 5% limits',
    mode: 'stored',
    inputs: { 'max-median-increase': '5%', 'max-p95-increase': '5%' },
    purpose: 'lower limits, so only the history noise band decides',
  };
  const abTight: Profile = {
    name: 'ab, 3% limits',
    mode: 'ab',
    inputs: { 'max-median-increase': '3%', 'max-p95-increase': '3%' },
    purpose: 'A/B limits below the +5% goal',
  };
  const cases: Case[] = [];
  const add = (profile: Profile, runs: number, kind: SlowdownKind, ...sizes: number[]) => {
    for (const size of sizes) cases.push({ profile, slowdown: { kind, size }, runs });
  };
  const storedDefaults = defaults('stored');
  add(storedDefaults, 20, 'all', 0, 0.1);
  add(storedDefaults, 20, 'tail', 0.15);
  add(storedDefaults, 6, 'all', 0.05, 0.15, 0.2);
  add(storedDefaults, 6, 'tail', 0.05, 0.1, 0.2);
  add(storedLow, 20, 'all', 0, 0.1);
  add(storedLow, 20, 'tail', 0.15);
  add(storedLow, 6, 'all', 0.15, 0.2);
  add(storedLow, 6, 'tail', 0.1, 0.2);
  for (const profile of [defaults('ab'), abTight]) {
    add(profile, 20, 'all', 0, 0.05);
    add(profile, 20, 'tail', 0.05);
    add(profile, 6, 'all', 0.1, 0.2);
    add(profile, 6, 'tail', 0.1, 0.15, 0.2);
  }
  return cases;
}

/** A/B at 3% limits with 10 bursts per target: for the +5% tail-only case 5 bursts leave short. */
export function abBurstsPlan(): Case[] {
  const profile: Profile = {
    name: 'ab, 3% limits, 10 bursts',
    mode: 'ab',
    inputs: { 'max-median-increase': '3%', 'max-p95-increase': '3%', bursts: '10' },
    purpose: 'A/B limits below the +5% goal, twice the bursts',
  };
  return [0, 0.05].flatMap((size) =>
    (['all', 'tail'] as const)
      .filter((kind) => size > 0 || kind === 'all')
      .map((kind) => ({ profile, slowdown: { kind, size }, runs: 20 })),
  );
}

/** The CI variant: defaults only, no change and a gross +50%, enough to catch a broken gate. */
export function quickPlan(): Case[] {
  const cases: Case[] = [];
  for (const profile of [defaults('stored'), defaults('ab')]) {
    cases.push({ profile, slowdown: { kind: 'all', size: 0 }, runs: profile.mode === 'stored' ? 6 : 4 });
    cases.push({ profile, slowdown: { kind: 'all', size: 0.5 }, runs: 4 });
  }
  return cases;
}
