// Repeated measurements on a noisy machine are quoted as min / median / max, never one run.

import { median } from '../src/verdict/statistics.ts';

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('no values to summarise');
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}
