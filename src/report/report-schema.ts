// The shape a report file must have before anything is rendered from it. `comment-from` reads a
// file that a fork's run wrote: every field the comment, summary and outputs use is checked for
// its type, its allowed values, finite numbers and a size cap, and the result is a fresh object
// holding only the known fields. Hand-written (a few combinators building the schema as data, and
// one function checking a value against it) so the action's bundle needs no schema library and
// each refusal names the field in the report's own terms.

import type { GateReport } from './gate-report.ts';
import { REPORT_SCHEMA, REPORT_VERSION } from './gate-report.ts';
import { PROCESS_PEAKS_KEPT, SHORT_COMMAND_MAX_CHARS, type ServiceBurstMemory, type ServiceProcessPeak } from '../watch/service-memory.ts';

/** Strings a report writes: headlines, reasonings, crash lines (cut at 300), URLs. */
export const REPORT_TEXT_MAX_CHARS = 8 * 1024;
/** `error` may carry a command's whole output; the comment shows its first 4,000 characters. */
export const REPORT_ERROR_MAX_CHARS = 64 * 1024;
/** A burst's compressed HDR histogram: 4–13 KB measured for narrow to very wide latency spreads. */
export const REPORT_HISTOGRAM_MAX_CHARS = 256 * 1024;
/** At most 100 bursts, doubled by confirmation and by A/B mode: 400; the rest is headroom. */
export const REPORT_MAX_BURSTS = 1_000;
/** Lists of warnings, notes, gaps, kills, devices: a real report has a handful. */
const REPORT_LIST_MAX_ITEMS = 200;
const MAX_PROBLEMS_SHOWN = 10;

export class ReportSchemaError extends Error {
  constructor(readonly problems: readonly string[]) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN);
    const more = problems.length > shown.length ? `\n- … and ${problems.length - shown.length} more` : '';
    super(`${shown.map((problem) => `- ${problem}`).join('\n')}${more}`);
    this.name = 'ReportSchemaError';
  }
}

interface Pattern {
  test: RegExp;
  described: string;
}

/**
 * One field of the report, as data: `checked` reads a value against it, and the tests walk it to
 * put hostile text in every string field a report may carry. `T` is the value it accepts.
 */
export type Field<T> = FieldKind & {
  /** Absent keys are allowed (and left absent) only for fields made with `optional`. */
  readonly optional?: true;
  /** Never set: ties the field to the type of the value it accepts. */
  readonly accepts?: T;
};

export type FieldKind =
  | { readonly kind: 'text'; readonly maxChars: number; readonly pattern?: Pattern }
  | { readonly kind: 'number'; readonly min: number; readonly max: number; readonly whole: boolean; readonly described: string }
  | { readonly kind: 'flag' }
  | { readonly kind: 'oneOf'; readonly values: readonly (string | number)[] }
  | { readonly kind: 'nullable'; readonly field: Field<unknown> }
  | { readonly kind: 'list'; readonly item: Field<unknown>; readonly maxItems: number }
  | { readonly kind: 'record'; readonly shape: Readonly<Record<string, Field<unknown>>> };

function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}…"` : text;
}

const refuse = (problems: string[], at: string, value: unknown, expected: string): void => {
  problems.push(`\`${at}\` is ${shown(value)}; expected ${expected}`);
};

function text(maxChars = REPORT_TEXT_MAX_CHARS, pattern?: Pattern): Field<string> {
  return { kind: 'text', maxChars, pattern };
}

function finite(range: { min?: number; max?: number } = {}): Field<number> {
  const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE } = range;
  const described = `a finite number${range.min !== undefined ? ` ≥ ${min}` : ''}${range.max !== undefined ? ` ≤ ${max}` : ''}`;
  return { kind: 'number', min, max, whole: false, described };
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER): Field<number> {
  const described = max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  return { kind: 'number', min, max, whole: true, described };
}

const flag: Field<boolean> = { kind: 'flag' };

function oneOf<const V extends string | number>(values: readonly V[]): Field<V> {
  return { kind: 'oneOf', values };
}

function nullable<T>(field: Field<T>): Field<T | null> {
  return { kind: 'nullable', field };
}

function optional<T>(field: Field<T>): Field<T | undefined> {
  return { ...field, optional: true };
}

function list<T>(item: Field<T>, maxItems = REPORT_LIST_MAX_ITEMS): Field<T[]> {
  return { kind: 'list', item, maxItems };
}

type Shape<T> = { [K in keyof T]-?: Field<T[K]> };

function record<T>(shape: Shape<T>): Field<T> {
  return { kind: 'record', shape: shape as Record<string, Field<unknown>> };
}

/**
 * `value` read at `at` (a path such as `context.pullRequestNumber`) against `field`, pushing a
 * problem for each mismatch; a record keeps only its known keys. The result is only meaningful
 * when no problem was pushed.
 */
function checked(field: Field<unknown>, value: unknown, at: string, problems: string[]): unknown {
  switch (field.kind) {
    case 'text': {
      const { maxChars, pattern } = field;
      if (typeof value !== 'string') refuse(problems, at, value, pattern?.described ?? 'a string');
      else if (value.length > maxChars) problems.push(`\`${at}\` is ${value.length} characters long; expected at most ${maxChars}`);
      else if (pattern && !pattern.test.test(value)) refuse(problems, at, value, pattern.described);
      return value;
    }
    case 'number': {
      const number = typeof value === 'number' && (field.whole ? Number.isSafeInteger(value) : Number.isFinite(value));
      if (!number || value < field.min || value > field.max) refuse(problems, at, value, field.described);
      return value;
    }
    case 'flag':
      if (typeof value !== 'boolean') refuse(problems, at, value, 'true or false');
      return value;
    case 'oneOf':
      if (!field.values.includes(value as string | number)) {
        refuse(problems, at, value, `one of ${field.values.map((v) => JSON.stringify(v)).join(', ')}`);
      }
      return value;
    case 'nullable':
      return value === null ? null : checked(field.field, value, at, problems);
    case 'list':
      if (!Array.isArray(value)) {
        refuse(problems, at, value, 'an array');
        return [];
      }
      if (value.length > field.maxItems) {
        problems.push(`\`${at}\` has ${value.length} items; expected at most ${field.maxItems}`);
        return [];
      }
      return value.map((element, index) => checked(field.item, element, `${at}[${index}]`, problems));
    case 'record': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        refuse(problems, at, value, 'an object');
        return {};
      }
      const source = value as Record<string, unknown>;
      const result: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(field.shape)) {
        const path = at === '' ? key : `${at}.${key}`;
        if (!Object.hasOwn(source, key)) {
          if (!member.optional) problems.push(`\`${path}\` is missing`);
          continue;
        }
        result[key] = checked(member, source[key], path, problems);
      }
      return result;
    }
  }
}

const SHA = { test: /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, described: 'a hex commit sha (40 digits, 64 for SHA-256)' };
const ISO_TIME = { test: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, described: 'an ISO time such as 2026-11-24T14:01:58.000Z' };
const HTTP_URL = { test: /^https?:\/\/[^\s]+$/, described: 'an http(s) URL' };
const BASE64 = { test: /^[A-Za-z0-9+/]*={0,2}$/, described: 'base64 text' };
/** One bound as the verdict rules word it: "+15%", "≤ 250 ms", "≥ 10%", "≤ 5 MB/s". */
const BOUND = /(?:\+|[≤≥] )\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:%| ms| MB\/s)/.source;
/** A comparison's limit: bounds, each a number with its unit, or none (an information row). */
const LIMIT = {
  test: new RegExp(`^(?:${BOUND}(?:, ${BOUND})*)?$`),
  described: 'a limit such as "+15%", "+15%, ≤ 250 ms", "≥ 10%" or "≤ 5 MB/s" (or "" for none)',
};

const count = integer(0);
const nullableCount = nullable(integer(0));
const nonNegative = finite({ min: 0 });
const fraction = finite({ min: 0, max: 1 });
const burstTarget = oneOf(['candidate', 'baseline'] as const);
const healthFlag = oneOf(['ok', 'memory-pressure', 'swapping', 'oom-kill', 'worker-crash', 'cpu-steal', 'generator-saturated'] as const);

const rttFigures = record<NonNullable<GateReport['bursts'][number]['rtt']>>({
  minMs: optional(nonNegative),
  medianMs: optional(nonNegative),
  samples: count,
  failed: count,
  failure: optional(text(200)),
});

const burstResult = record<GateReport['bursts'][number]>({
  index: integer(0, REPORT_MAX_BURSTS),
  target: burstTarget,
  startedAt: text(64, ISO_TIME),
  durationMs: nonNegative,
  histogram: text(REPORT_HISTOGRAM_MAX_CHARS, BASE64),
  p50: nonNegative,
  p90: nonNegative,
  p95: nonNegative,
  p99: nonNegative,
  p999: nonNegative,
  max: nonNegative,
  mean: nonNegative,
  requestsPerSec: nonNegative,
  ok: count,
  non2xx: count,
  errors: count,
  timeouts: count,
  errorRate: fraction,
  generatorCpu: nonNegative,
  rtt: optional(rttFigures),
  newConnectionShare: optional(fraction),
  handshakeRoundTrips: optional(finite({ min: 0, max: 3 })),
});

type Report = GateReport;
type Host = NonNullable<Report['host']>;
type HostBurst = Host['bursts'][number];
type StoredBaseline = NonNullable<Host['storedBaseline']>;

const fingerprint = record<Host['fingerprint']>({
  kernel: text(),
  cpuModel: nullable(text()),
  cpuCount: count,
  memTotalKib: nullableCount,
  swapTotalKib: nullableCount,
  product: nullable(text()),
  vendor: nullable(text()),
});

const swapState = record<Host['swap']['before']>({
  memTotalBytes: count,
  devices: list(record<Host['swap']['before']['devices'][number]>({ path: text(), type: text(), sizeBytes: count, usedBytes: count })),
  totalBytes: count,
  usedBytes: count,
});

const swap = record<Host['swap']>({
  mode: oneOf(['verify', 'configure', 'off'] as const),
  path: text(),
  requiredBytes: optional(count),
  before: swapState,
  after: swapState,
  action: oneOf(['reported', 'verified', 'already-active', 'activated', 'created'] as const),
  createdWith: optional(oneOf(['fallocate', 'dd'] as const)),
  fstabLineAdded: flag,
  message: text(),
});

const crashLine = record<HostBurst['crashLines']['quoted'][number]>({ kind: text(), line: text() });

const oomKill = record<HostBurst['oomKills'][number]>({
  pid: count,
  name: text(),
  anonRssMb: nullable(nonNegative),
  atEpochSec: nullable(nonNegative),
  scope: oneOf(['host', 'memory-cgroup'] as const),
  line: text(),
});

const serviceMemory = record<NonNullable<HostBurst['figures']['service']>>({
  label: text(),
  source: oneOf(['pss', 'rss', 'cgroup'] as const),
  samples: count,
  peakKib: count,
  processesAtPeak: count,
  processesMax: count,
  largestProcessKib: nullableCount,
  largestProcessPid: nullableCount,
  cgroupPeakKib: nullableCount,
  processPeaks: optional(
    record<NonNullable<ServiceBurstMemory['processPeaks']>>({
      measure: oneOf(['pss', 'rss'] as const),
      processes: list(
        record<ServiceProcessPeak>({ pid: count, command: text(SHORT_COMMAND_MAX_CHARS), worker: flag, peakKib: count }),
        PROCESS_PEAKS_KEPT,
      ),
    }),
  ),
});

/** The memory figures a burst's host watch and a stored run's host summary both carry. */
const hostMemoryFields = {
  memTotalKib: nullableCount,
  memAvailableBeforeKib: nullableCount,
  memAvailableMinKib: nullableCount,
  memAvailableAfterKib: nullableCount,
  swapTotalKib: nullableCount,
  swapUsedPeakKib: nullableCount,
  swapInPages: count,
  swapOutPages: count,
  majorFaults: count,
};

const hostFigures = record<HostBurst['figures']>({
  samples: count,
  spanSec: nonNegative,
  ...hostMemoryFields,
  oomKills: nullableCount,
  psiSomePeak: nullable(nonNegative),
  psiFullPeak: nullable(nonNegative),
  stealPercent: nullable(nonNegative),
  load1Peak: nullable(nonNegative),
  service: optional(nullable(serviceMemory)),
  baselineService: optional(nullable(serviceMemory)),
});

const hostBurst = record<HostBurst>({
  burstIndex: integer(0, REPORT_MAX_BURSTS),
  target: burstTarget,
  startedAt: text(64, ISO_TIME),
  figures: hostFigures,
  oomKills: list(oomKill),
  crashLines: record<HostBurst['crashLines']>({ quoted: list(crashLine), total: count }),
  generatorCpu: nonNegative,
  hostSpeed: optional(record<NonNullable<HostBurst['hostSpeed']>>({ mib: integer(1), hashMs: nonNegative, mbPerSec: nonNegative })),
  flags: list(healthFlag),
  gaps: list(text()),
});

const storedHostRun = record<NonNullable<StoredBaseline['run']>>({
  label: text(),
  bursts: count,
  ...hostMemoryFields,
  psiSomePeak: nullable(nonNegative),
  psiFullPeak: nullable(nonNegative),
  stealPercentPeak: nullable(nonNegative),
  oomKills: count,
  crashLines: count,
  flags: list(healthFlag),
});

const host = record<Host>({
  address: text(),
  hostKeyFingerprint: text(),
  fingerprint,
  swap,
  bursts: list(hostBurst, REPORT_MAX_BURSTS),
  storedBaseline: optional(record<StoredBaseline>({ run: optional(storedHostRun), fingerprint: optional(fingerprint) })),
});

const comparison = record<NonNullable<Report['decision']>['comparisons'][number]>({
  metric: oneOf(['p50', 'p95', 'p99', 'requestsPerSec', 'errorRate', 'serviceMemory', 'memoryHeadroom', 'swapIn'] as const),
  baseline: optional(finite()),
  current: finite(),
  change: optional(finite()),
  limit: text(64, LIMIT),
  status: oneOf(['ok', 'regression', 'improved', 'inconclusive', 'info'] as const),
  reasoning: text(),
});

const verdict = oneOf(['pass', 'regression', 'inconclusive', 'error'] as const);

const decision = record<NonNullable<Report['decision']>>({
  verdict,
  mode: oneOf(['history', 'cold-start', 'no-history', 'ab', 'none'] as const),
  headline: text(),
  comparisons: list(comparison),
  warnings: list(text()),
  notes: list(text()),
  confirmed: flag,
  crashed: flag,
  latencyBasis: optional(oneOf(['service-time', 'end-to-end'] as const)),
  minDetectableChange: optional(nonNegative),
});

const settings = record<Report['settings']>({
  url: text(REPORT_TEXT_MAX_CHARS, HTTP_URL),
  method: text(16),
  connections: integer(1),
  durationMs: nonNegative,
  bursts: integer(1),
  warmupMs: nonNegative,
  pipelining: integer(1),
  timeoutMs: nonNegative,
  rate: nullable(nonNegative),
  loadProcesses: integer(1),
  abUrl: nullable(text(REPORT_TEXT_MAX_CHARS, HTTP_URL)),
  host: nullable(text()),
  maxMedianIncrease: nonNegative,
  maxP95Increase: nonNegative,
  maxErrorRate: fraction,
  p95BudgetMs: nullable(nonNegative),
  baselineStore: text(),
  baselineKey: text(),
});

const figures = record<NonNullable<Report['figures']>>({
  p50: nonNegative,
  p90: nonNegative,
  p95: nonNegative,
  p99: nonNegative,
  requestsPerSec: nonNegative,
  errorRate: fraction,
});

const curve = record<NonNullable<Report['curve']>>({
  percentiles: list(finite({ min: 0, max: 100 })),
  candidate: list(nonNegative),
  baseline: optional(list(nonNegative)),
});

const network = record<NonNullable<Report['network']>>({
  before: optional(rttFigures),
  rttMs: optional(nonNegative),
  rttMinMs: optional(nonNegative),
  serviceMedianMs: optional(nonNegative),
  serviceP95Ms: optional(nonNegative),
  historyRttMs: optional(nonNegative),
  probes: count,
  failedProbes: count,
  failure: optional(text(200)),
});

const hostSpeed = record<NonNullable<Report['hostSpeed']>>({
  currentMbps: nonNegative,
  historyMbps: optional(nonNegative),
  change: optional(finite()),
  historyReachMbps: optional(nonNegative),
  historyRuns: count,
});

/** The report file's fields: what `parseReport` accepts. */
export const REPORT_FIELDS = record<Report>({
  schema: oneOf([REPORT_SCHEMA]),
  version: oneOf([REPORT_VERSION]),
  name: text(),
  verdict,
  headline: text(),
  startedAt: text(64, ISO_TIME),
  // Empty when the run never finished (the process was killed).
  finishedAt: text(64, { test: new RegExp(`^$|${ISO_TIME.test.source}`), described: ISO_TIME.described }),
  context: record<Report['context']>({
    eventName: text(64),
    ref: text(),
    sha: text(64),
    headSha: optional(text(64, SHA)),
    pullRequestNumber: optional(integer(1)),
    runUrl: optional(text(REPORT_TEXT_MAX_CHARS, HTTP_URL)),
  }),
  settings,
  figures: optional(figures),
  bursts: list(burstResult, REPORT_MAX_BURSTS),
  curve: optional(curve),
  baseline: record<Report['baseline']>({
    location: text(),
    runs: count,
    configDifferences: list(text()),
    recorded: flag,
    recordNote: text(),
  }),
  decision: optional(decision),
  host: optional(host),
  network: optional(network),
  hostSpeed: optional(hostSpeed),
  error: optional(text(REPORT_ERROR_MAX_CHARS)),
});

/**
 * The report in `data` (parsed JSON), rebuilt from its known fields; throws a ReportSchemaError
 * listing each field that does not match.
 */
export function parseReport(data: unknown): GateReport {
  const problems: string[] = [];
  const head = data as Partial<Record<'schema' | 'version', unknown>> | null;
  // Another file (or another version's report) is told apart before its fields are listed.
  if (typeof data !== 'object' || data === null || head?.schema !== REPORT_SCHEMA || head.version !== REPORT_VERSION) {
    const found = `${shown(head?.schema)} / ${shown(head?.version)}`;
    throw new ReportSchemaError([`\`schema\` / \`version\` are ${found}; expected "${REPORT_SCHEMA}" / ${REPORT_VERSION}`]);
  }
  const report = checked(REPORT_FIELDS, data, '', problems) as GateReport;
  if (problems.length > 0) throw new ReportSchemaError(problems);
  return report;
}
