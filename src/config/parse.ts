// Raw input strings → one validated Settings object. Pure: no I/O, no environment. Every problem
// is collected, so a user fixing a workflow sees all of them at once, each naming the input and
// the form it accepts.

import { INPUT_DEFAULTS, type InputName, type RawInputs } from './input-defaults.ts';
import type {
  BaselineStoreKind,
  CommentMode,
  ReportSettings,
  Settings,
  SshSettings,
  SwapMode,
  SwapSize,
  UpdateBaseline,
} from './settings.ts';
import type { ServiceSelector } from '../watch/service-memory.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid input:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** What the run does: measure and gate, or post a report measured by an earlier workflow. */
export type RunPlan =
  | { kind: 'measure'; settings: Settings }
  | { kind: 'post-report'; reportPath: string; report: ReportSettings };

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const SAFE_NAME = /^[A-Za-z0-9._-]{1,100}$/;
const SAFE_ABSOLUTE_PATH = /^\/[A-Za-z0-9._/-]{1,255}$/;
const BRANCH_NAME = /^(?!\/|.*\/\/|.*\.\.|.*\/$|.*\.lock$)[A-Za-z0-9._/-]{1,200}$/;
const SIZE_UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

class InputReader {
  readonly problems: string[] = [];

  constructor(private readonly raw: RawInputs) {}

  text(name: InputName): string {
    const value = this.raw[name]?.trim();
    return value ? value : INPUT_DEFAULTS[name];
  }

  /** The raw value without trimming (bodies and keys keep their exact bytes). */
  verbatim(name: InputName): string | undefined {
    const value = this.raw[name];
    return value && value.trim() ? value : undefined;
  }

  optional(name: InputName): string | undefined {
    return this.text(name) || undefined;
  }

  reject(name: InputName, value: string, accepted: string): undefined {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    this.problems.push(`input \`${name}\`: got ${JSON.stringify(shown)}; expected ${accepted}`);
    return undefined;
  }

  integer(name: InputName, min: number, max: number): number {
    const value = this.text(name);
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      this.reject(name, value, `a whole number from ${min} to ${max}`);
      return min;
    }
    return n;
  }

  /** `10` and `10s` are seconds; `1500ms`, `1m`, `1h` as written. */
  durationMs(name: InputName, options: { allowZero?: boolean; minMs?: number } = {}): number {
    const value = this.text(name);
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(value);
    const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    const ms = match ? Number(match[1]) * scale[(match[2] ?? 's') as keyof typeof scale] : NaN;
    const tooShort = ms === 0 ? !options.allowZero : ms < (options.minMs ?? 0);
    if (!Number.isFinite(ms) || ms < 0 || tooShort || ms > 24 * 3_600_000) {
      const least = options.minMs ? `at least ${options.minMs / 1000}s` : options.allowZero ? '0 or more' : 'more than 0';
      this.reject(name, value, `a duration (${least}) such as \`10\`, \`10s\`, \`1500ms\` or \`1m\``);
      return 1000;
    }
    return Math.round(ms);
  }

  /** `10` or `10%` → 0.1. */
  fraction(name: InputName): number {
    const value = this.text(name);
    const match = /^(\d+(?:\.\d+)?)\s*%?$/.exec(value);
    const percent = match ? Number(match[1]) : NaN;
    if (!Number.isFinite(percent) || percent > 1000) {
      this.reject(name, value, 'a percentage from 0 to 1000 such as `10` or `10%`');
      return 0;
    }
    return percent / 100;
  }

  boolean(name: InputName): boolean {
    const value = this.text(name).toLowerCase();
    if (value === 'true') return true;
    if (value === 'false') return false;
    this.reject(name, this.text(name), '`true` or `false`');
    return false;
  }

  oneOf<T extends string>(name: InputName, allowed: readonly T[]): T {
    const value = this.text(name);
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.reject(name, value, `one of ${allowed.map((a) => `\`${a}\``).join(', ')}`);
    return allowed[0];
  }

  httpUrl(name: InputName): string | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname) {
      return this.reject(name, value, 'an absolute http:// or https:// URL such as `https://staging.example.com/health`');
    }
    return parsed.toString();
  }
}

function parseHeaders(reader: InputReader): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of reader.text('headers').split(/\r?\n/)) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!HEADER_NAME.test(name)) {
      reader.reject('headers', line, 'one `Name: value` line per header');
      continue;
    }
    headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parseSwapSize(reader: InputReader): SwapSize {
  const value = reader.text('swap-size');
  const multiple = /^(\d+(?:\.\d+)?)x$/i.exec(value);
  if (multiple && Number(multiple[1]) > 0 && Number(multiple[1]) <= 16) {
    return { multipleOfMemory: Number(multiple[1]) };
  }
  const absolute = /^(\d+(?:\.\d+)?)\s*([KMGT])(?:i?B)?$/i.exec(value);
  const bytes = absolute ? Math.round(Number(absolute[1]) * SIZE_UNITS[absolute[2].toUpperCase()]) : NaN;
  if (!(bytes >= 16 * 2 ** 20 && bytes <= 2 ** 40)) {
    reader.reject('swap-size', value, 'a size from 16M to 1T such as `512M` or `2G`, or a multiple of RAM such as `2x`');
    return { bytes: 2 * 2 ** 30 };
  }
  return { bytes };
}

function parseSsh(reader: InputReader): SshSettings | undefined {
  const host = reader.optional('host');
  if (host === undefined) return undefined;
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(host) || host.startsWith('-')) {
    reader.reject('host', host, 'a hostname or IP address such as `staging.example.com`');
  }
  const username = reader.optional('username');
  if (username === undefined) reader.problems.push('input `username`: required when `host` is set');
  else if (!/^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(username)) reader.reject('username', username, 'a login name such as `deploy`');
  const privateKey = reader.verbatim('key');
  if (privateKey === undefined) {
    reader.problems.push('input `key`: required when `host` is set (the private key text, e.g. `${{ secrets.SSH_KEY }}`)');
  } else if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(privateKey)) {
    reader.problems.push('input `key`: not a private key; expected the full text of a PEM or OpenSSH private key (`-----BEGIN ... PRIVATE KEY-----`)');
  }
  const fingerprints = reader
    .text('fingerprint')
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const fingerprint of fingerprints) {
    if (!FINGERPRINT.test(fingerprint)) {
      reader.reject('fingerprint', fingerprint, 'one or more `SHA256:…` fingerprints as printed by `ssh-keygen -lf`, comma or newline separated');
    }
  }
  const knownHosts = reader
    .text('known-hosts')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const line of knownHosts) {
    if (line.split(/\s+/).length < 3) reader.reject('known-hosts', line, 'known_hosts lines such as `host ssh-ed25519 AAAA…`');
  }
  return {
    host,
    port: reader.integer('port', 1, 65535),
    username: username ?? '',
    privateKey: privateKey ?? '',
    passphrase: reader.verbatim('passphrase'),
    fingerprints,
    knownHosts,
    insecureSkipHostKeyCheck: reader.boolean('insecure-skip-host-key-check'),
    sudoPassword: reader.verbatim('sudo-password'),
  };
}

function parseReport(reader: InputReader): ReportSettings {
  const name = reader.text('name');
  if (!SAFE_NAME.test(name)) reader.reject('name', name, 'letters, digits, `.`, `_` or `-` (up to 100)');
  return {
    githubToken: reader.verbatim('github-token')?.trim(),
    comment: reader.oneOf<CommentMode>('comment', ['always', 'on-regression', 'never']),
    name,
    commentFrom: reader.optional('comment-from'),
  };
}

const UNIT_NAME = /^[A-Za-z0-9@:._\\-]{1,200}$/;

function servicePattern(reader: InputReader, name: 'service-match' | 'baseline-service-match'): ServiceSelector | undefined {
  const pattern = reader.optional(name);
  if (pattern === undefined) return undefined;
  let valid = pattern.length <= 200 && !/[\n\r\0]/.test(pattern);
  try {
    new RegExp(pattern);
  } catch {
    valid = false;
  }
  if (!valid)
    return reader.reject(
      name,
      pattern,
      'a regular expression (up to 200 characters) matched against command lines as `pgrep -f` does, such as `gunicorn`',
    );
  return { kind: 'match', pattern };
}

/** The service whose memory is gated, and the memory limits. */
function parseServiceMemory(reader: InputReader, hasHost: boolean, abMode: boolean) {
  const match = servicePattern(reader, 'service-match');
  const unitName = reader.optional('service-unit');
  if (unitName !== undefined && !UNIT_NAME.test(unitName))
    reader.reject('service-unit', unitName, 'a systemd unit name such as `gunicorn.service`');
  if (match && unitName !== undefined)
    reader.problems.push('input `service-unit`: give either `service-match` or `service-unit`, not both');
  const service: ServiceSelector | undefined = match ?? (unitName === undefined ? undefined : { kind: 'unit', unit: unitName });
  const baselineService = servicePattern(reader, 'baseline-service-match');
  for (const [name, given] of [
    ['service-match', match],
    ['service-unit', unitName],
    ['baseline-service-match', baselineService],
  ] as const) {
    if (given !== undefined && !hasHost)
      reader.problems.push(`input \`${name}\`: needs \`host\` (the service's memory is read on the host over SSH)`);
  }
  if (baselineService && (!abMode || !service)) {
    reader.problems.push(
      "input `baseline-service-match`: needs `baseline-url` (A/B mode) and `service-match` or `service-unit` for this build's service",
    );
  }
  const minMemoryHeadroom = reader.fraction('min-memory-headroom');
  if (minMemoryHeadroom > 1)
    reader.reject('min-memory-headroom', reader.text('min-memory-headroom'), 'a percentage of MemTotal from 0 to 100');
  const swapIn = reader.optional('max-swap-in');
  const swapMatch = swapIn === undefined ? null : /^(\d+(?:\.\d+)?)\s*(?:MB\/s)?$/i.exec(swapIn);
  if (swapIn !== undefined && !swapMatch)
    reader.reject('max-swap-in', swapIn, 'empty (off) or MB swapped in per second, such as `1` or `0.5MB/s`');
  return {
    watch: { service, baselineService },
    gate: {
      maxMemoryIncrease: reader.fraction('max-memory-increase'),
      minMemoryHeadroom,
      maxSwapInMbPerSec: swapMatch ? Number(swapMatch[1]) : undefined,
    },
  };
}

export function parseInputs(raw: RawInputs): RunPlan {
  const reader = new InputReader(raw);
  const report = parseReport(reader);
  if (report.commentFrom !== undefined) {
    if (reader.problems.length) throw new ConfigError(reader.problems);
    return { kind: 'post-report', reportPath: report.commentFrom, report };
  }

  const url = reader.httpUrl('url');
  if (reader.optional('url') === undefined) {
    reader.problems.push('input `url`: required; expected the http(s) URL to load, e.g. `https://staging.example.com/api/items`');
  }
  const rateText = reader.optional('rate');
  const rate = rateText === undefined ? undefined : Number(rateText);
  if (rateText !== undefined && !(/^\d+(\.\d+)?$/.test(rateText) && rate! > 0 && rate! <= 1_000_000)) {
    reader.reject('rate', rateText, 'empty (closed loop) or requests per second from 1 to 1000000');
  }
  const p95Budget = reader.optional('p95-budget');
  const p95BudgetMs = p95Budget === undefined ? undefined : reader.durationMs('p95-budget');
  const swapPath = reader.text('swap-path');
  if (!SAFE_ABSOLUTE_PATH.test(swapPath) || swapPath.split('/').includes('..')) {
    reader.reject('swap-path', swapPath, 'an absolute path of letters, digits, `.`, `_`, `-` and `/`, such as `/swapfile`');
  }
  const key = reader.text('baseline-key') || report.name;
  if (!SAFE_NAME.test(key)) reader.reject('baseline-key', key, 'letters, digits, `.`, `_` or `-` (up to 100)');
  const branch = reader.text('baseline-branch');
  if (!BRANCH_NAME.test(branch)) reader.reject('baseline-branch', branch, 'a git branch name such as `loadgate-baseline`');
  const baselinePath = reader.text('baseline-path');
  if (baselinePath.includes('\0')) reader.reject('baseline-path', baselinePath, 'a file path');
  const body = reader.verbatim('body');
  const method = reader.oneOf('method', HTTP_METHODS);
  const connections = reader.integer('connections', 1, 10_000);
  const loadProcesses = reader.integer('load-processes', 1, 64);
  if (loadProcesses > connections) {
    reader.problems.push(`input \`load-processes\`: ${loadProcesses} processes need at least as many \`connections\` (got ${connections})`);
  }

  const memory = parseServiceMemory(reader, reader.optional('host') !== undefined, reader.optional('baseline-url') !== undefined);
  const settings: Settings = {
    load: {
      url: url ?? '',
      method,
      headers: parseHeaders(reader),
      body,
      connections,
      durationMs: reader.durationMs('duration'),
      bursts: reader.integer('bursts', 1, 100),
      warmupMs: reader.durationMs('warmup', { allowZero: true }),
      pipelining: reader.integer('pipelining', 1, 100),
      // autocannon counts request timeouts in whole seconds.
      timeoutMs: reader.durationMs('timeout', { minMs: 1000 }),
      rate,
      loadProcesses,
    },
    ssh: parseSsh(reader),
    swap: {
      mode: reader.oneOf<SwapMode>('swap', ['verify', 'configure', 'off']),
      size: parseSwapSize(reader),
      path: swapPath,
      persist: reader.boolean('swap-persist'),
    },
    lock: { enabled: reader.boolean('lock'), timeoutMs: reader.durationMs('lock-timeout', { allowZero: true }) },
    watch: { logsCommand: reader.optional('logs-command'), ...memory.watch },
    gate: {
      maxMedianIncrease: reader.fraction('max-median-increase'),
      maxP95Increase: reader.fraction('max-p95-increase'),
      maxErrorRate: reader.fraction('max-error-rate'),
      p95BudgetMs,
      failOnRegression: reader.boolean('fail-on-regression'),
      failOnInconclusive: reader.boolean('fail-on-inconclusive'),
    },
    memoryGate: memory.gate,
    baseline: {
      store: reader.oneOf<BaselineStoreKind>('baseline-store', ['branch', 'file', 'none']),
      branch,
      path: baselinePath,
      key,
      update: reader.oneOf<UpdateBaseline>('update-baseline', ['auto', 'true', 'false']),
      abUrl: reader.httpUrl('baseline-url'),
    },
    report,
  };
  if (settings.gate.maxErrorRate > 1) {
    reader.reject('max-error-rate', reader.text('max-error-rate'), 'a percentage from 0 to 100');
  }
  if (reader.problems.length) throw new ConfigError(reader.problems);
  return { kind: 'measure', settings };
}
