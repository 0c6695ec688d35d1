// The baseline document: a versioned history of past runs per baseline key. Both stores (a file
// in the workspace, a file per key on a branch) hold this same document. Pure: parsing,
// validation, appending and load signatures; the stores do the I/O. A run keeps only the per-burst
// figures the verdict reads plus its latency curve (a few numbers, not a histogram). A history is
// capped by count and by bytes: 100 runs of 100 bursts would pass the contents API's 1 MB.

import { createHash } from 'node:crypto';
import { redactedUrl } from '../config/redact-url.ts';
import type { LoadSettings } from '../config/settings.ts';
import type { BurstFigures } from '../load/measurement.ts';
import type { HostMachine } from '../watch/machine.ts';
import type { HostRunSummary } from '../watch/host-summary.ts';
import type { StoredServiceMemory } from '../watch/service-memory.ts';

export const HISTORY_SCHEMA = 'loadgate-baseline';
export const HISTORY_VERSION = 1;
/** Runs kept per key; older ones fall off. */
export const HISTORY_CAP = 100;
/**
 * Bytes one key's history may take, written as a document of its own (what a branch store file
 * holds). The contents API inlines files up to "1 MB"; 900,000 stays under that whether GitHub
 * means 10^6 or 2^20 bytes, with room for an indentation or envelope change.
 */
export const HISTORY_BYTE_CAP = 900_000;

/** The load settings that change what a latency means: runs with different ones are not compared. */
export interface LoadSignature {
  /** Redacted (`redactedUrl`): the history is public to fork PRs. */
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
  /** The network round trip during the burst (median of its TCP handshakes, ms); absent in older runs. */
  rttMs?: number;
  /** BurstFigures.newConnectionShare; absent in older runs (read as keep-alive). */
  newConnectionShare?: number;
  /** BurstFigures.handshakeRoundTrips (0 to 3); absent in older runs and when no request waited for one (read as 1). */
  handshakeRoundTrips?: number;
}

export interface HistoryRun {
  sha: string;
  ref: string;
  /** ISO 8601. */
  time: string;
  /** The run's load signature (stored as `config`). */
  config: LoadSignature;
  /** The target host and what happened to it, when it was watched over SSH; `fingerprint` is its machine. */
  host?: { fingerprint: HostMachine; summary: HostRunSummary };
  /** False when the run was disturbed (host trouble, a crash): kept, never used as a baseline. */
  healthy: boolean;
  bursts: HistoryBurst[];
  /** Latency in ms at CURVE_PERCENTILES over all the run's bursts, for the report's chart. */
  curve: number[];
  /** The service's peak memory over the bursts (`service-match` / `service-unit`); absent in older histories. */
  serviceMemory?: StoredServiceMemory;
  /** The host's speed index (MB/s of SHA-256 over zeros, median of the run's probes); absent in older histories. */
  hostSpeedMbps?: number;
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
    ...(burst.rtt?.medianMs !== undefined && { rttMs: round(burst.rtt.medianMs, 3) }),
    ...(burst.newConnectionShare !== undefined && { newConnectionShare: round(burst.newConnectionShare, 3) }),
    ...(burst.handshakeRoundTrips !== undefined && { handshakeRoundTrips: round(burst.handshakeRoundTrips, 2) }),
  };
}

/** Keys come from inputs (`baseline-key`, `name`): without a prototype, `constructor` or `__proto__` are plain keys. */
function historyMap(entries: Record<string, HistoryRun[]>): Record<string, HistoryRun[]> {
  return Object.assign(Object.create(null) as Record<string, HistoryRun[]>, entries);
}

export function emptyDocument(): BaselineDocument {
  return { schema: HISTORY_SCHEMA, version: HISTORY_VERSION, histories: historyMap({}) };
}

/**
 * Runs compare by the redacted URL. The history is readable by every fork PR, so it may hold no
 * form of a credential: a hash of a short API key is brute-forced offline, and no key for an
 * HMAC survives from run to run except another secret the user would have to add. Nor is one
 * needed: a rotated password or API key does not change what a latency means, so it should not
 * make a run "settings changed"; host, path and query names still do.
 */
export function loadSignatureOf(load: LoadSettings): LoadSignature {
  return {
    url: redactedUrl(load.url),
    method: load.method,
    connections: load.connections,
    durationMs: load.durationMs,
    pipelining: load.pipelining,
    rate: load.rate ?? null,
    bodySha256: load.body === undefined ? null : createHash('sha256').update(load.body).digest('hex'),
  };
}

/** Human-readable differences, e.g. `connections 10 → 20`; empty when the signatures match. */
export function loadSignatureDifferences(stored: LoadSignature, measured: LoadSignature): string[] {
  // Runs stored before URLs were redacted hold them whole: compared (and shown) redacted too.
  const baseline = { ...stored, url: redactedUrl(stored.url) };
  const current = { ...measured, url: redactedUrl(measured.url) };
  const keys = Object.keys(current) as (keyof LoadSignature)[];
  return keys
    .filter((key) => baseline[key] !== current[key])
    .map((key) => (key === 'bodySha256' ? 'body changed' : `${key} ${String(baseline[key])} → ${String(current[key])}`));
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const BURST_FIELDS = ['p50', 'p95', 'p99', 'requestsPerSec', 'errorRate', 'ok'] as const;
const LATENCY_FIELDS = ['p50', 'p95', 'p99'] as const;
/** Absent in runs stored before they were measured. */
const OPTIONAL_BURST_FIGURES = ['rttMs', 'newConnectionShare', 'handshakeRoundTrips'] as const;

/** A figure's accepted values: from `low` to `high`, `low` itself excluded when `aboveLow`. */
interface FigureRange {
  low: number;
  high: number;
  aboveLow?: boolean;
  whole?: boolean;
  unit?: string;
}

/** The longest `timeout` and `duration` loadgate accepts: no latency it measures is longer. */
const DAY_MS = 24 * 3_600_000;
/** Far beyond any load generator: `rate` itself stops at 1,000,000. */
const MAX_REQUESTS_PER_SECOND = 1_000_000_000;

/**
 * The physical range of every stored figure, in one place: what loadgate's writer can produce and
 * nothing beyond, so a history planted with impossible figures (a p50 of 10^9 ms that makes every
 * run "improved", an `ok` of -1 that turns runs into "no baseline yet") is refused, never used.
 * A history with plausible figures is as trustworthy as whoever can edit it (README, "Where the
 * baseline lives").
 */
export const STORED_FIGURE_RANGES = {
  /** A percentile of a burst with 2xx responses: the histogram records at least 1 µs. */
  measuredLatencyMs: { low: 0, aboveLow: true, high: DAY_MS, unit: 'ms' },
  /** A percentile of a burst without (`ok` 0): the empty histogram reads 0. */
  unmeasuredLatencyMs: { low: 0, high: 0, unit: 'ms' },
  /** The run's latency curve: 0 when none of its bursts measured latency. */
  curveMs: { low: 0, high: DAY_MS, unit: 'ms' },
  rttMs: { low: 0, high: DAY_MS, unit: 'ms' },
  requestsPerSec: { low: 0, high: MAX_REQUESTS_PER_SECOND },
  /** 2xx responses of one burst: a day's burst at the highest rate at most. */
  ok: { low: 0, high: (MAX_REQUESTS_PER_SECOND * DAY_MS) / 1000, whole: true },
  errorRate: { low: 0, high: 1 },
  newConnectionShare: { low: 0, high: 1 },
  /** TCP, then TLS 1.2's two more (load/count-handshakes.ts); less when written part-way through. */
  handshakeRoundTrips: { low: 0, high: 3 },
  /** SHA-256 over zeros on one core (watch/host-speed.ts): far above what any core hashes. */
  hostSpeedMbps: { low: 0, aboveLow: true, high: 1_000_000, unit: 'MB/s' },
  /** 16 TiB: more memory than any one host has. */
  memoryKib: { low: 0, high: 16 * 1024 ** 3, unit: 'KiB' },
  /** Linux's largest `pid_max`. */
  processes: { low: 0, high: 4_194_304, whole: true },
} as const satisfies Record<string, FigureRange>;

const figure = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 3 });

function rangeWords({ low, high, aboveLow, whole, unit }: FigureRange): string {
  const units = unit ? ` ${unit}` : '';
  if (low === high) return `${figure(low)}${units}`;
  if (whole) return `a whole number from ${figure(low)} to ${figure(high)}${units}`;
  if (aboveLow && low === 0) return `a positive number up to ${figure(high)}${units}`;
  return `a number from ${figure(low)}${aboveLow ? ' (excluded)' : ''} to ${figure(high)}${units}`;
}

const inRange = (value: number, { low, high, aboveLow, whole }: FigureRange): boolean =>
  (aboveLow ? value > low : value >= low) && value <= high && (!whole || Number.isInteger(value));

/** `field` is not a number in `range`: says so with the value read; undefined when it is. */
function outOfRange(value: unknown, range: FigureRange, field: string): string | undefined {
  if (isNumber(value) && inRange(value, range)) return undefined;
  return `${field} is not ${rangeWords(range)}: it reads ${isNumber(value) ? String(value) : JSON.stringify(value)}`;
}

function burstProblem(burst: Record<string, unknown>): string | undefined {
  const ranges = STORED_FIGURE_RANGES;
  const countProblem = outOfRange(burst.ok, ranges.ok, 'ok');
  if (countProblem) return countProblem;
  const latency = (burst.ok as number) > 0 ? ranges.measuredLatencyMs : ranges.unmeasuredLatencyMs;
  for (const field of LATENCY_FIELDS) {
    const problem = outOfRange(burst[field], latency, field);
    if (problem) return `${problem}, with ok ${String(burst.ok)}`;
  }
  if ((burst.p50 as number) > (burst.p95 as number) || (burst.p95 as number) > (burst.p99 as number)) {
    return `p50 ≤ p95 ≤ p99 does not hold: they read ${LATENCY_FIELDS.map((field) => String(burst[field])).join(', ')}`;
  }
  const present = OPTIONAL_BURST_FIGURES.filter((field) => burst[field] !== undefined);
  for (const field of ['requestsPerSec', 'errorRate', ...present] as const) {
    const problem = outOfRange(burst[field], ranges[field], field);
    if (problem) return problem;
  }
  return undefined;
}

function runProblem(run: unknown, where: string): string | undefined {
  if (!isObject(run)) return `${where} is not an object`;
  for (const field of ['sha', 'ref', 'time'] as const) {
    if (typeof run[field] !== 'string') return `${where}.${field} is not a string`;
  }
  // Which run, for a user who opens the file: its commit and time as stored.
  const problem = runFigureProblem(run, where);
  return problem && `${problem}; in the run of commit ${String(run.sha).slice(0, 12)} stored at ${String(run.time).slice(0, 30)}`;
}

function runFigureProblem(run: Record<string, unknown>, where: string): string | undefined {
  if (typeof run.healthy !== 'boolean') return `${where}.healthy is not a boolean`;
  if (!isObject(run.config) || typeof run.config.url !== 'string') return `${where}.config is missing`;
  if (!Array.isArray(run.bursts) || run.bursts.length === 0) return `${where}.bursts is empty`;
  for (const [i, burst] of run.bursts.entries()) {
    if (!isObject(burst) || !BURST_FIELDS.every((k) => isNumber(burst[k]))) {
      return `${where}.bursts[${i}] lacks numeric ${BURST_FIELDS.join('/')}`;
    }
    const problem = burstProblem(burst);
    if (problem) return `${where}.bursts[${i}].${problem}`;
  }
  if (!Array.isArray(run.curve) || !run.curve.every(isNumber)) return `${where}.curve is not a list of numbers`;
  for (const [i, value] of run.curve.entries()) {
    const problem = outOfRange(value, STORED_FIGURE_RANGES.curveMs, `${where}.curve[${i}]`);
    if (problem) return problem;
    if (i > 0 && value < run.curve[i - 1]) {
      return `${where}.curve[${i}] is below the percentile before it (${String(value)} < ${String(run.curve[i - 1])}): a latency curve never falls`;
    }
  }
  if (run.hostSpeedMbps !== undefined) {
    const problem = outOfRange(run.hostSpeedMbps, STORED_FIGURE_RANGES.hostSpeedMbps, `${where}.hostSpeedMbps`);
    if (problem) return problem;
  }
  if (run.serviceMemory !== undefined) {
    if (!isObject(run.serviceMemory)) return `${where}.serviceMemory is not an object`;
    const { peakKib, processes, perProcess } = run.serviceMemory;
    return (
      outOfRange(peakKib, STORED_FIGURE_RANGES.memoryKib, `${where}.serviceMemory.peakKib`) ??
      outOfRange(processes, STORED_FIGURE_RANGES.processes, `${where}.serviceMemory.processes`) ??
      perProcessProblem(perProcess, `${where}.serviceMemory.perProcess`)
    );
  }
  return undefined;
}

/** A run's largest processes (optional: runs stored before they were kept have none). */
function perProcessProblem(perProcess: unknown, where: string): string | undefined {
  if (perProcess === undefined) return undefined;
  if (!Array.isArray(perProcess)) return `${where} is not a list`;
  for (const [i, process] of perProcess.entries()) {
    if (!isObject(process) || typeof process.command !== 'string' || typeof process.worker !== 'boolean') {
      return `${where}[${i}] lacks a command (text) and worker (true or false)`;
    }
    const problem = outOfRange(process.peakKib, STORED_FIGURE_RANGES.memoryKib, `${where}[${i}].peakKib`);
    if (problem) return problem;
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
    throw new BaselineFormatError(
      where,
      `version ${String(data.version)} is not supported (this loadgate reads version ${HISTORY_VERSION})`,
    );
  }
  if (!isObject(data.histories)) throw new BaselineFormatError(where, '"histories" is missing');
  for (const [key, runs] of Object.entries(data.histories)) {
    if (!Array.isArray(runs)) throw new BaselineFormatError(where, `histories.${key} is not a list`);
    for (const [i, run] of runs.entries()) {
      const problem = runProblem(run, `histories.${key}[${i}]`);
      if (problem) throw new BaselineFormatError(where, problem);
    }
  }
  return { ...(data as unknown as BaselineDocument), histories: historyMap(data.histories as Record<string, HistoryRun[]>) };
}

export function serializeDocument(document: BaselineDocument): string {
  return `${JSON.stringify(document, null, 1)}\n`;
}

/**
 * A new document with `run` appended to `key`'s history, oldest runs dropped past `cap` runs or
 * `byteCap` bytes (see `historyBytes`). Other keys are left alone: each history pays for its own
 * growth. Dropping whole runs, rather than thinning old runs' bursts, keeps every stored run
 * comparable with a new one, and the verdict reads only the newest healthy runs.
 */
export function appendRun(
  document: BaselineDocument,
  key: string,
  run: HistoryRun,
  cap = HISTORY_CAP,
  byteCap = HISTORY_BYTE_CAP,
): BaselineDocument {
  const histories = historyMap(document.histories);
  // Runs stored before URLs were redacted hold credentials: the next write stores them redacted.
  const previous = (Object.hasOwn(document.histories, key) ? document.histories[key] : []).map(withRedactedUrl);
  histories[key] = newestWithinBytes(key, [...previous, run].slice(-cap), byteCap);
  return { ...document, histories };
}

/**
 * `document` with every key's history within `cap` runs and an equal share of `byteCap` bytes,
 * oldest runs dropped, so that the whole document fits `byteCap`: what one branch-store file must
 * (the contents API inlines files up to 1 MB), whatever other keys something else wrote into it.
 */
export function capEveryKey(document: BaselineDocument, cap = HISTORY_CAP, byteCap = HISTORY_BYTE_CAP): BaselineDocument {
  const keys = Object.keys(document.histories);
  // Each key's own document repeats the envelope the whole document holds once: the shares sum to at most byteCap.
  const share = Math.floor(byteCap / Math.max(1, keys.length));
  const histories = historyMap({});
  for (const key of keys) histories[key] = newestWithinBytes(key, document.histories[key].slice(-cap).map(withRedactedUrl), share);
  return { ...document, histories };
}

function withRedactedUrl(run: HistoryRun): HistoryRun {
  const url = redactedUrl(run.config.url);
  return url === run.config.url ? run : { ...run, config: { ...run.config, url } };
}

/** UTF-8 bytes of `key`'s runs serialized as a document holding only that key. */
export function historyBytes(key: string, runs: HistoryRun[]): number {
  return Buffer.byteLength(serializeDocument({ ...emptyDocument(), histories: { [key]: runs } }));
}

/** The longest newest slice of `runs` within `byteCap`; the newest run alone when even it is larger. */
function newestWithinBytes(key: string, runs: HistoryRun[], byteCap: number): HistoryRun[] {
  if (historyBytes(key, runs) <= byteCap) return runs;
  // Binary search on how many of the oldest runs to drop: a few serializations, not one per run.
  let fits = runs.length - 1;
  let tooBig = 0;
  while (fits - tooBig > 1) {
    const middle = Math.floor((fits + tooBig) / 2);
    if (historyBytes(key, runs.slice(middle)) <= byteCap) fits = middle;
    else tooBig = middle;
  }
  return runs.slice(fits);
}
