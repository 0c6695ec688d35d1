// Seeded histories for the change-point detector (src/verdict/change-points.ts): how often it finds
// a change in a history that has none, and how often it finds one that is there, at the right run.
// Pure: test/verdict/change-points.test.ts asserts on these rates, bench/change-points.ts prints
// them for more lengths, noises and shifts.

import { type ChangePointOptions, DEFAULT_CHANGE_POINT_OPTIONS, findChangePoints } from '../src/verdict/change-points.ts';
import { mulberry32 } from '../src/verdict/statistics.ts';

/** One run's noise on the log scale, drawn from a seeded uniform source. */
export interface Noise {
  name: string;
  draw: (random: () => number) => number;
}

/** A standard normal by Box–Muller (one of the pair). */
const standardNormal = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** Log-normal run-to-run noise: profile R's quiet runs have σ ≈ 1.3 % on p50. */
export const logNormalNoise = (sigma: number): Noise => ({
  name: `log-normal σ ${(sigma * 100).toFixed(1)} %`,
  draw: (random) => sigma * standardNormal(random),
});

/** Profile U's drift: each run's figure times a factor uniform in [1 − d, 1 + d]. */
export const uniformDrift = (d: number): Noise => ({
  name: `uniform ±${(d * 100).toFixed(0)} %`,
  draw: (random) => Math.log(1 + d * (2 * random() - 1)),
});

/** Heavier tails than normal: Student t with 3 df scaled by σ (an odd run now and then). */
export const studentT3Noise = (sigma: number): Noise => ({
  name: `t, 3 df, scale ${(sigma * 100).toFixed(1)} %`,
  draw: (random) => {
    const z = standardNormal(random);
    const chi = standardNormal(random) ** 2 + standardNormal(random) ** 2 + standardNormal(random) ** 2;
    return (sigma * z) / Math.sqrt(chi / 3);
  },
});

export interface SimulationSettings {
  seed: number;
  histories: number;
  /** Each history has a length drawn uniformly from this inclusive range. */
  runs: readonly [number, number];
  noise: Noise;
  options?: ChangePointOptions;
}

/** The share of level histories (no change) in which the detector reports any change point. */
export function falseChangeRate({ seed, histories, runs, noise, options }: SimulationSettings): number {
  const random = mulberry32(seed);
  let changed = 0;
  for (let h = 0; h < histories; h++) {
    const length = runs[0] + Math.floor(random() * (runs[1] - runs[0] + 1));
    const values = Array.from({ length }, () => noise.draw(random));
    if (findChangePoints(values, options).length > 0) changed++;
  }
  return changed / histories;
}

export interface ShiftSettings extends SimulationSettings {
  /** The level moves by a relative size drawn uniformly from ±[smallest, largest]. */
  shift: readonly [number, number];
  /** Runs at the new level: drawn from this inclusive range, capped so minSegment runs precede the shift. */
  runsAfter: readonly [number, number];
}

/**
 * The share of histories with one level shift in which the detector reports a change point within
 * one run of the true one.
 */
export function detectionRate({ seed, histories, runs, noise, options, shift, runsAfter }: ShiftSettings): number {
  const random = mulberry32(seed);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const before = options?.minSegment ?? DEFAULT_CHANGE_POINT_OPTIONS.minSegment;
  let found = 0;
  for (let h = 0; h < histories; h++) {
    const length = between(runs[0], runs[1]);
    const after = between(runsAfter[0], Math.min(runsAfter[1], length - before));
    const size = (random() < 0.5 ? -1 : 1) * (shift[0] + random() * (shift[1] - shift[0]));
    const at = length - after;
    const values = Array.from({ length }, (_, run) => noise.draw(random) + (run >= at ? Math.log1p(size) : 0));
    if (findChangePoints(values, options).some((point) => Math.abs(point.index - at) <= 1)) found++;
  }
  return found / histories;
}
