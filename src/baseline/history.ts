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
    if (burst.rttMs !== undefined && !isNumber(burst.rttMs)) return `${where}.bursts[${i}].rttMs is not a number`;
    const share = burst.newConnectionShare;
    if (share !== undefined && !(isNumber(share) && share >= 0 && share <= 1)) {
      return `${where}.bursts[${i}].newConnectionShare is not a fraction from 0 to 1`;
    }
    const handshakes = burst.handshakeRoundTrips;
    if (handshakes !== undefined && !(isNumber(handshakes) && handshakes >= 0 && handshakes <= 3)) {
      return `${where}.bursts[${i}].handshakeRoundTrips is not a number from 0 to 3`;
    }
  }
  if (run.hostSpeedMbps !== undefined && !(isNumber(run.hostSpeedMbps) && run.hostSpeedMbps > 0)) {
    return `${where}.hostSpeedMbps is not a positive number`;
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
