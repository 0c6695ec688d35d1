// Raw input strings → one validated Settings object. Pure: no I/O, no environment. Every problem
// is collected, so a user fixing a workflow sees all of them at once, each naming the input and
// the form it accepts.

import { INPUT_DEFAULTS, INPUT_NAMES, type InputName, type RawInputs } from './input-defaults.ts';
import { headerSecrets, redactedUrl, urlSecrets } from './redact-url.ts';
import type {
  BaselineStoreKind,
  CommentMode,
  NetworkRttMode,
  ReportSettings,
  Settings,
  SshSettings,
  SwapMode,
  SwapSize,
  UpdateBaseline,
} from './settings.ts';
import { isSwapFilePath, SWAP_PATH_FORM } from './validators.ts';
import type { ServiceSelector } from './settings.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid input:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * What the run does: measure and gate, or post a report measured by an earlier workflow. Warnings
 * name inputs that are set but ignored where setting them need not be a mistake.
 */
export type RunPlan =
  | { kind: 'measure'; settings: Settings; warnings: string[] }
  | { kind: 'post-report'; reportPath: string; report: ReportSettings; warnings: string[] };

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const SAFE_NAME = /^[A-Za-z0-9._-]{1,100}$/;
/** What `git check-ref-format --branch` accepts, within our plain character set. */
const BRANCH_NAME = /^(?![/-]|.*\/\/|.*\.\.|.*\/$|.*\.$|.*\.lock(?:\/|$)|(?:.*\/)?\.)[A-Za-z0-9._/-]{1,200}$/;
const SIZE_UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DAY_MS = 24 * 3_600_000;
/** autocannon ends a burst on its sampling tick, every 100 ms (src/load/burst.ts): no burst is shorter. */
const MIN_BURST_MS = 100;
/** Below this a swap file or a swap check protects nothing (and `verify` passes on a host without swap). */
const MIN_SWAP_BYTES = 64 * 2 ** 20;
const MIN_SWAP_MULTIPLE = 0.1;
/** Control characters other than tab: sent raw on the wire, CR and LF split or end the header. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\x00-\x08\x0a-\x1f\x7f]/;
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

const URL_FORM =
  'an absolute http:// or https:// URL such as `https://staging.example.com/health`, ' +
  'with `/`, `?`, `#` and `%` in a user name or password percent-encoded (`%2F`, `%3F`, `%23`, `%25`)';

function percentDecodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** `1500` → `1.5s`, `100` → `100ms`, `0.001` → `0.001ms`. */
function formatDuration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

interface DurationOptions {
  allowZero?: boolean;
  minMs?: number;
  microseconds?: boolean;
  unitRequired?: boolean;
}

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
    return value?.trim() ? value : undefined;
  }

  optional(name: InputName): string | undefined {
    return this.text(name) || undefined;
  }

  reject(name: InputName, value: string, accepted: string): undefined {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    this.problems.push(`input \`${name}\`: got ${JSON.stringify(shown)}; expected ${accepted}`);
    return undefined;
  }

  integer(name: InputName, min: number, max: number, accepted = `a whole number from ${min} to ${max}`): number {
    const value = this.text(name);
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isFinite(n) || n < min || n > max) {
      this.reject(name, value, accepted);
      return min;
    }
    return n;
  }

  /**
   * `10` and `10s` are seconds; `1500ms`, `1m`, `1h` as written. Whole milliseconds, or
   * microseconds with `microseconds`; a value other than 0 is at least `minMs` (by default the
   * resolution), so nothing rounds silently to 0.
   */
  durationMs(name: InputName, options: DurationOptions = {}): number {
    const value = this.text(name);
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(value);
    const unit = match?.[2] as keyof typeof DURATION_UNITS | undefined;
    const ms = match && (unit || !options.unitRequired) ? Number(match[1]) * DURATION_UNITS[unit ?? 's'] : NaN;
    const minMs = options.minMs ?? (options.microseconds ? 0.001 : 1);
    const inRange = ms === 0 ? options.allowZero : ms >= minMs && ms <= DAY_MS;
    if (!Number.isFinite(ms) || !inRange) {
      const least = `${options.allowZero ? '0 or ' : ''}at least ${formatDuration(minMs)}`;
      const forms = options.unitRequired ? '`250ms`, `0.5ms` or `1.5s` (the unit is required)' : '`10`, `10s`, `1500ms` or `1m`';
      this.reject(name, value, `a duration (${least}, at most 24h) such as ${forms}`);
      return 1000;
    }
    return options.microseconds ? Math.round(ms * 1000) / 1000 : Math.round(ms);
  }

  /** Set to something other than its default: the user wrote it (the runner fills in defaults). */
  given(name: InputName): boolean {
    const value = this.raw[name]?.trim();
    return value !== undefined && value !== '' && value !== INPUT_DEFAULTS[name];
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
    // The load engine's url.parse percent-decodes the userinfo, and throws on a `%` without two hex digits.
    const decodable = parsed !== undefined && [parsed.username, parsed.password].every(percentDecodes);
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname || !decodable) {
      return this.reject(name, redactedUrl(value), URL_FORM);
    }
    return parsed.toString();
  }
}

function parseHeaders(reader: InputReader): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [index, line] of reader.text('headers').split(/\r?\n/).entries()) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!HEADER_NAME.test(name)) {
      // A header line can be a credential (`Bearer …` without its name): named, never echoed.
      const expected = 'expected one `Name: value` line per header';
      reader.problems.push(`input \`headers\`: line ${index + 1} is not \`Name: value\` (its text is not shown); ${expected}`);
      continue;
    }
    const value = line.slice(colon + 1).trim();
    if (CONTROL_CHARACTER.test(value)) {
      // Only the name is shown: header values often hold credentials.
      reader.problems.push(
        `input \`headers\`: the value of \`${name}\` holds a control character (CR, LF, NUL…) that would go raw on the wire; ` +
          'expected one `Name: value` line per header, with printable values',
      );
      continue;
    }
    headers[name] = value;
  }
  return headers;
}

function parseSwapSize(reader: InputReader): SwapSize {
  const value = reader.text('swap-size');
  const multiple = /^(\d+(?:\.\d+)?)x$/i.exec(value);
  if (multiple && Number(multiple[1]) >= MIN_SWAP_MULTIPLE && Number(multiple[1]) <= 16) {
    return { multipleOfMemory: Number(multiple[1]) };
  }
  const absolute = /^(\d+(?:\.\d+)?)\s*([KMGT])(?:i?B)?$/i.exec(value);
  const bytes = absolute ? Math.round(Number(absolute[1]) * SIZE_UNITS[absolute[2].toUpperCase()]) : NaN;
  if (!(bytes >= MIN_SWAP_BYTES && bytes <= 2 ** 40)) {
    reader.reject('swap-size', value, 'a size from 64M to 1T such as `512M` or `2G`, or a multiple of RAM from 0.1x to 16x such as `2x`');
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
    reader.problems.push(
      'input `key`: not a private key; expected the full text of a PEM or OpenSSH private key (`-----BEGIN ... PRIVATE KEY-----`)',
    );
  }
  const fingerprints = reader
    .text('fingerprint')
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const fingerprint of fingerprints) {
    if (!FINGERPRINT.test(fingerprint)) {
      reader.reject(
        'fingerprint',
        fingerprint,
        'one or more `SHA256:…` fingerprints as printed by `ssh-keygen -lf`, comma or newline separated',
      );
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
    sudoPassword: parseSudoPassword(reader),
  };
}

/** sudo reads the password as one line of stdin: a line break inside would leak the rest into the command. */
function parseSudoPassword(reader: InputReader): string | undefined {
  const password = reader.verbatim('sudo-password')?.replace(/\r?\n$/, '');
  if (password !== undefined && LINE_BREAK_OR_NUL.test(password)) {
    reader.problems.push(
      'input `sudo-password`: holds a line break or NUL inside; expected the password on one line (a final newline is ignored)',
    );
  }
  return password;
}

function parseReport(reader: InputReader): ReportSettings {
  const name = reader.text('name');
  if (!SAFE_NAME.test(name)) reader.reject('name', name, 'letters, digits, `.`, `_` or `-` (up to 100)');
  return {
    githubToken: parseGithubToken(reader),
    comment: reader.oneOf<CommentMode>('comment', ['always', 'on-regression', 'never']),
    name,
    commentFrom: reader.optional('comment-from'),
  };
}

/** A token goes in an HTTP header: a line break or control character inside is a pasting mistake. */
function parseGithubToken(reader: InputReader): string | undefined {
  const token = reader.verbatim('github-token')?.trim();
  if (token !== undefined && CONTROL_CHARACTER.test(token)) {
    reader.problems.push(
      'input `github-token`: holds a line break or control character; expected the token on one line, e.g. `${{ github.token }}`',
    );
  }
  return token;
}

const HOST_CREDENTIALS: readonly InputName[] = ['key', 'passphrase', 'sudo-password'];
/**
 * Written literally beside a `host` taken from a secret, which a fork's pull request gets empty:
 * the run still measures the URL, so these are named in a warning, not refused.
 */
const HOST_SETTINGS: readonly InputName[] = [
  'logs-command',
  'swap-size',
  'swap-path',
  'port',
  'username',
  'fingerprint',
  'known-hosts',
  'insecure-skip-host-key-check',
  'swap-persist',
  'lock',
  'lock-timeout',
  'host-speed-probe',
  'max-cpu-steal',
];
const POST_REPORT_INPUTS: readonly InputName[] = ['comment-from', 'comment', 'name', 'github-token'];

/**
 * Host-only inputs set without `host`. Credentials come from secrets like `host` itself, so a key
 * without a host can only be a mistake; the rest is ignored with a warning that says what is lost.
 */
function checkHostOnlyInputs(reader: InputReader, warnings: string[]): void {
  if (reader.optional('host') !== undefined) return;
  for (const name of HOST_CREDENTIALS.filter((credential) => reader.given(credential))) {
    reader.problems.push(`input \`${name}\`: a credential for the target host, but \`host\` is empty; expected \`host\` too, or remove it`);
  }
  const ignored = HOST_SETTINGS.filter((name) => reader.given(name)).map((name) => `\`${name}\``);
  if (reader.text('swap') === 'configure') ignored.unshift('`swap: configure`');
  if (ignored.length) {
    warnings.push(
      `${ignored.join(', ')} set but \`host\` is empty: ignored, no host is watched ` +
        "(a fork's pull request gets empty secrets; elsewhere, set `host`)",
    );
  }
}

/**
 * `comment-from` posts a stored report and measures nothing. A target or credentials beside it can
 * only be a mistake (and the posting workflow runs with a write token); other measuring inputs are
 * harmless leftovers of a copied step, named in a warning.
 */
function checkPostReportInputs(reader: InputReader, warnings: string[]): void {
  const measuring = INPUT_NAMES.filter((name) => !POST_REPORT_INPUTS.includes(name) && reader.given(name));
  const refused = measuring.filter((name) => ['url', 'baseline-url', 'host', ...HOST_CREDENTIALS].includes(name));
  for (const name of refused) {
    reader.problems.push(
      `input \`${name}\`: set with \`comment-from\`, which posts a stored report and measures nothing; expected one or the other`,
    );
  }
  const ignored = measuring.filter((name) => !refused.includes(name));
  if (ignored.length) {
    warnings.push(
      `${ignored.map((name) => `\`${name}\``).join(', ')} set with \`comment-from\`: ignored, ` +
        'the stored report was measured and judged by its own run',
    );
  }
}

/** A path to a file: empty, NUL, or a last segment that names a directory (`/`, `.`, `..`) cannot be one. */
function checkFilePath(reader: InputReader, name: InputName, example: string): string {
  const path = reader.text(name);
  const last = path.split('/').pop();
  if (path.includes('\0') || last === '' || last === '.' || last === '..') {
    reader.reject(name, path, `a file path (not a directory, no trailing \`/\`) such as \`${example}\``);
  }
  return path;
}

/**
 * Requests per second, whole, and at least 1 for each load process's share (each process paces
 * its connections to its share: load/pace-requests.ts).
 */
function parseRate(reader: InputReader, connections: number, loadProcesses: number): number | undefined {
  if (reader.optional('rate') === undefined) return undefined;
  const known = reader.problems.length;
  const rate = reader.integer('rate', 1, 1_000_000, 'empty (closed loop) or a whole number of requests per second from 1 to 1000000');
  // The fewest connections a process gets (src/load/processes.ts shares the rate by connections).
  const fewest = Math.floor(connections / loadProcesses);
  if (reader.problems.length === known && fewest >= 1 && (rate * fewest) / connections < 1) {
    reader.reject(
      'rate',
      reader.text('rate'),
      `at least ${Math.ceil(connections / fewest)} with ${loadProcesses} \`load-processes\` sharing ${connections} \`connections\` ` +
        '(each process sends its share of the rate, at least 1 request per second)',
    );
  }
  return rate;
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

/** `max-cpu-steal` as a percent from 0 to 100. */
function maxCpuSteal(reader: InputReader): number {
  const steal = reader.fraction('max-cpu-steal');
  if (steal > 1) reader.reject('max-cpu-steal', reader.text('max-cpu-steal'), 'a percentage of CPU time from 0 to 100, such as `5%`');
  return steal * 100;
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
  const warnings: string[] = [];
  const report = parseReport(reader);
  if (report.commentFrom !== undefined) {
    checkFilePath(reader, 'comment-from', 'loadgate-report.json');
    checkPostReportInputs(reader, warnings);
    if (reader.problems.length) throw new ConfigError(reader.problems);
    return { kind: 'post-report', reportPath: report.commentFrom, report, warnings };
  }

  const url = reader.httpUrl('url');
  if (reader.optional('url') === undefined) {
    reader.problems.push('input `url`: required; expected the http(s) URL to load, e.g. `https://staging.example.com/api/items`');
  }
  // A bare number is seconds elsewhere; for a latency budget `250` almost surely means 250 ms.
  const p95BudgetMs =
    reader.optional('p95-budget') === undefined ? undefined : reader.durationMs('p95-budget', { microseconds: true, unitRequired: true });
  const swapPath = reader.text('swap-path');
  if (!isSwapFilePath(swapPath)) reader.reject('swap-path', swapPath, SWAP_PATH_FORM);
  const key = reader.text('baseline-key') || report.name;
  if (!SAFE_NAME.test(key)) reader.reject('baseline-key', key, 'letters, digits, `.`, `_` or `-` (up to 100)');
  const branch = reader.text('baseline-branch');
  if (!BRANCH_NAME.test(branch)) reader.reject('baseline-branch', branch, 'a git branch name such as `loadgate-baseline`');
  const baselinePath = checkFilePath(reader, 'baseline-path', '.loadgate/baseline.json');
  const logsCommand = reader.optional('logs-command');
  if (logsCommand?.includes('\0')) reader.reject('logs-command', logsCommand, 'a shell command without NUL characters');
  const body = reader.verbatim('body');
  const method = reader.oneOf('method', HTTP_METHODS);
  const connections = reader.integer('connections', 1, 10_000);
  const loadProcesses = reader.integer('load-processes', 1, 64);
  if (loadProcesses > connections) {
    reader.problems.push(`input \`load-processes\`: ${loadProcesses} processes need at least as many \`connections\` (got ${connections})`);
  }
  const rate = parseRate(reader, connections, loadProcesses);
  checkHostOnlyInputs(reader, warnings);

  const memory = parseServiceMemory(reader, reader.optional('host') !== undefined, reader.optional('baseline-url') !== undefined);
  const settings: Settings = {
    load: {
      url: url ?? '',
      method,
      headers: parseHeaders(reader),
      body,
      connections,
      durationMs: reader.durationMs('duration', { minMs: MIN_BURST_MS }),
      bursts: reader.integer('bursts', 1, 100),
      warmupMs: reader.durationMs('warmup', { allowZero: true, minMs: MIN_BURST_MS }),
      pipelining: reader.integer('pipelining', 1, 100),
      // autocannon counts request timeouts in whole seconds.
      timeoutMs: reader.durationMs('timeout', { minMs: 1000 }),
      rate,
      loadProcesses,
      networkRtt: reader.oneOf<NetworkRttMode>('network-rtt', ['auto', 'off']),
      tlsVerify: reader.boolean('tls-verify'),
    },
    ssh: parseSsh(reader),
    swap: {
      mode: reader.oneOf<SwapMode>('swap', ['verify', 'configure', 'off']),
      size: parseSwapSize(reader),
      path: swapPath,
      persist: reader.boolean('swap-persist'),
    },
    lock: { enabled: reader.boolean('lock'), timeoutMs: reader.durationMs('lock-timeout', { allowZero: true }) },
    watch: {
      logsCommand,
      ...memory.watch,
      speedProbe: reader.oneOf<'auto' | 'off'>('host-speed-probe', ['auto', 'off']) === 'auto',
      maxStealPercent: maxCpuSteal(reader),
    },
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
    secrets: [],
  };
  settings.secrets.push(
    ...urlSecrets(settings.load.url),
    ...urlSecrets(settings.baseline.abUrl ?? ''),
    ...headerSecrets(settings.load.headers),
  );
  if (settings.gate.maxErrorRate > 1) {
    reader.reject('max-error-rate', reader.text('max-error-rate'), 'a percentage from 0 to 100');
  }
  if (reader.problems.length) throw new ConfigError(reader.problems);
  return { kind: 'measure', settings, warnings };
}
