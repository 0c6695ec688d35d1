// The baseline document: a versioned history of past runs per baseline key. Both stores (a file
// in the workspace, a file per key on a branch) hold this same document. Pure: parsing,
// validation, appending and fingerprints; the stores do the I/O. A run keeps only the per-burst
// figures the verdict reads plus its latency curve (a few numbers, not a histogram), so 100 runs
// of 10 bursts stay near 100 KB, far below the contents API's 1 MB.

import { createHash } from 'node:crypto';
import type { LoadSettings } from '../config/settings.ts';
import type { BurstFigures } from '../load/measurement.ts';
import type { HostFingerprint } from '../watch/fingerprint.ts';
import type { HostRunSummary } from '../watch/host-summary.ts';
import type { StoredServiceMemory } from '../watch/service-memory.ts';

export const HISTORY_SCHEMA = 'loadgate-baseline';
export const HISTORY_VERSION = 1;
/** Runs kept per key; older ones fall off. */
export const HISTORY_CAP = 100;

/** The settings that change what a latency means: runs with different ones are not compared. */
export interface ConfigFingerprint {
  url: string;
  method: string;
  connections: number;
  durationMs: number;
  pipelining: number;
  rate: number | null;
  bodySha256: string | null;
}

export interface HistoryBurst {
  /** Milliseconds, from the burst's microsecond histogram of 2xx responses. */
  p50: number;
  p95: number;
  p99: number;
  requestsPerSec: number;
  /** Fraction of requests that failed (non-2xx, errors, timeouts). */
  errorRate: number;
  /** 2xx responses counted; 0 means the burst measured no latency. */
  ok: number;
}

export interface HistoryRun {
  sha: string;
  ref: string;
  /** ISO 8601. */
  time: string;
  config: ConfigFingerprint;
  /** The target host and what happened to it, when it was watched over SSH. */
  host?: { fingerprint: HostFingerprint; summary: HostRunSummary };
  /** False when the run was disturbed (host trouble, a crash): kept, never used as a baseline. */
  healthy: boolean;
  bursts: HistoryBurst[];
  /** Latency in ms at CURVE_PERCENTILES over all the run's bursts, for the report's chart. */
  curve: number[];
  /** The service's peak memory over the bursts (`service-match` / `service-unit`); absent in older histories. */
  serviceMemory?: StoredServiceMemory;
}

export interface BaselineDocument {
  schema: typeof HISTORY_SCHEMA;
  version: typeof HISTORY_VERSION;
  histories: Record<string, HistoryRun[]>;
}

export class BaselineFormatError extends Error {
  constructor(where: string, problem: string) {
    super(`${where} is not a loadgate baseline: ${problem}. It was left untouched; point \`baseline-path\` elsewhere or remove the file.`);
    this.name = 'BaselineFormatError';
  }
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** The figures of a measured burst that the history keeps, at the precision they were measured. */
export function historyBurstOf(burst: BurstFigures): HistoryBurst {
  return {
    // Latencies come from a microsecond histogram: three decimals of a millisecond lose nothing.
    p50: round(burst.p50, 3),
    p95: round(burst.p95, 3),
    p99: round(burst.p99, 3),
    requestsPerSec: round(burst.requestsPerSec, 1),
    errorRate: Number(burst.errorRate.toPrecision(4)),
    ok: burst.ok,
  };
}

export function emptyDocument(): BaselineDocument {
  return { schema: HISTORY_SCHEMA, version: HISTORY_VERSION, histories: {} };
}

export function configFingerprint(load: LoadSettings): ConfigFingerprint {
  return {
    url: load.url,
    method: load.method,
    connections: load.connections,
    durationMs: load.durationMs,
    pipelining: load.pipelining,
    rate: load.rate ?? null,
    bodySha256: load.body === undefined ? null : createHash('sha256').update(load.body).digest('hex'),
  };
}

/** Human-readable differences, e.g. `connections 10 → 20`; empty when the configs match. */
export function fingerprintDifferences(baseline: ConfigFingerprint, current: ConfigFingerprint): string[] {
  const keys = Object.keys(current) as (keyof ConfigFingerprint)[];
  return keys
    .filter((key) => baseline[key] !== current[key])
    .map((key) => (key === 'bodySha256' ? 'body changed' : `${key} ${String(baseline[key])} → ${String(current[key])}`));
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const BURST_FIELDS = ['p50', 'p95', 'p99', 'requestsPerSec', 'errorRate', 'ok'] as const;

function runProblem(run: unknown, where: string): string | undefined {
  if (!isObject(run)) return `${where} is not an object`;
  for (const field of ['sha', 'ref', 'time'] as const) {
    if (typeof run[field] !== 'string') return `${where}.${field} is not a string`;
  }
  if (!Array.isArray(run.curve) || !run.curve.every(isNumber)) return `${where}.curve is not a list of numbers`;
  if (typeof run.healthy !== 'boolean') return `${where}.healthy is not a boolean`;
  if (!isObject(run.config) || typeof run.config.url !== 'string') return `${where}.config is missing`;
  if (!Array.isArray(run.bursts) || run.bursts.length === 0) return `${where}.bursts is empty`;
  for (const [i, burst] of run.bursts.entries()) {
    if (!isObject(burst) || !BURST_FIELDS.every((k) => isNumber(burst[k]))) {
      return `${where}.bursts[${i}] lacks numeric ${BURST_FIELDS.join('/')}`;
    }
  }
  return undefined;
}

/** Parses and validates a stored document; throws BaselineFormatError naming `where`. */
export function parseDocument(text: string, where: string): BaselineDocument {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new BaselineFormatError(where, 'it is not valid JSON (corrupted or truncated)');
  }
  if (!isObject(data) || data.schema !== HISTORY_SCHEMA) throw new BaselineFormatError(where, `"schema" is not "${HISTORY_SCHEMA}"`);
  if (data.version !== HISTORY_VERSION) {
    throw new BaselineFormatError(where, `version ${String(data.version)} is not supported (this loadgate reads version ${HISTORY_VERSION})`);
  }
  if (!isObject(data.histories)) throw new BaselineFormatError(where, '"histories" is missing');
  for (const [key, runs] of Object.entries(data.histories)) {
    if (!Array.isArray(runs)) throw new BaselineFormatError(where, `histories.${key} is not a list`);
    for (const [i, run] of runs.entries()) {
      const problem = runProblem(run, `histories.${key}[${i}]`);
      if (problem) throw new BaselineFormatError(where, problem);
    }
  }
  return data as unknown as BaselineDocument;
}

export function serializeDocument(document: BaselineDocument): string {
  return `${JSON.stringify(document, null, 1)}\n`;
}

/** A new document with `run` appended to `key`'s history, oldest runs dropped past the cap. */
export function appendRun(document: BaselineDocument, key: string, run: HistoryRun, cap = HISTORY_CAP): BaselineDocument {
  const runs = [...(document.histories[key] ?? []), run].slice(-cap);
  return { ...document, histories: { ...document.histories, [key]: runs } };
}
