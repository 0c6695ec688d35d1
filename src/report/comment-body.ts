// What a run says where people read it: the PR comment, the job summary and the terminal. One
// layout for all three, built from the GateReport alone (so `comment-from` renders the same
// comment from a report file). Pure: no I/O, no environment.

import { markdownTable } from 'markdown-table';
import { redactedUrl } from '../config/redact-url.ts';
import type { BurstResult } from '../load/measurement.ts';
import type { SwapReport } from '../remote/swap.ts';
import { count, milliseconds, plainPercent } from '../verdict/wording.ts';
import { formatBytes, formatMib, seconds } from '../units.ts';
import { describeMachine } from '../watch/machine.ts';
import type { BurstHostHealth } from '../watch/health.ts';
import { hostUnderLoad, type HostUnderLoad } from '../watch/host-summary.ts';
import type { GateReport, PublicSettings } from './gate-report.ts';
import { COMMENT_MAX_CHARS, SUMMARY_MAX_BYTES } from './github-limits.ts';
import { headlineOf } from './headline.ts';
import { renderHostUnderLoad } from './host-section.ts';
import { latencyChart } from './latency-chart.ts';
import { latencyTable } from './latency-table.ts';
import { fenced, oneLine, tableCell } from './markdown.ts';
import { inertProse, runLinkMarkdown, untrusted } from './untrusted-text.ts';
import { MEMORY_METRIC_NAMES, serviceMemorySection } from './memory-rows.ts';

type ReportedHost = NonNullable<GateReport['host']>;

export interface CommentBodyOptions {
  /** The hidden line that identifies this gate's comment, e.g. `<!-- loadgate:api -->`. */
  marker: string;
  maxChars?: number;
  /** The GitHub server this run talks to (`GITHUB_SERVER_URL`): the only host a run link may point at. */
  serverUrl?: string;
}

const DEFAULT_SERVER_URL = 'https://github.com';

/** An error's own text can be a stack or a command's whole output: the start says what happened. */
const ERROR_TEXT_CHARS = 4_000;
/** A crash headline lists every crash; past this the details say the rest. */
const VERDICT_LINE_CHARS = 600;

/** The verdict line, worded so the icon's meaning is also in words. */
export function verdictLine(report: GateReport): string {
  const words = oneLine(verdictWords(report));
  return headlineOf({ ...report, headline: words.length > VERDICT_LINE_CHARS ? `${words.slice(0, VERDICT_LINE_CHARS - 1)}…` : words });
}

function verdictWords(report: GateReport): string {
  if (report.verdict === 'error') return report.headline.startsWith('error') ? report.headline : `error: ${report.headline}`;
  const compared = report.decision?.comparisons.some((c) => (c.metric === 'p50' || c.metric === 'p95') && c.change !== undefined);
  if (report.verdict === 'pass' && compared) return `no regression: ${report.headline}`;
  return report.headline;
}

function whatWasMeasured(report: GateReport): string {
  const s = report.settings;
  const load = `${s.bursts} bursts × ${seconds(s.durationMs)}, ${s.connections} connections${s.rate ? ` at ${count(s.rate)} req/s` : ''}`;
  const target = untrusted(`${s.method} ${redactedUrl(s.url)}`);
  const base = report.baseline;
  const baseline = s.abUrl
    ? `A/B against ${untrusted(redactedUrl(s.abUrl))}`
    : inertProse(`baseline ${base.location}${base.runs > 0 ? `, ${base.runs} run${base.runs === 1 ? '' : 's'}` : ''}`);
  return `<sub>${[inertProse(load), target, baseline].join(' · ')}</sub>`;
}

function errorText(report: GateReport): string | undefined {
  if (!report.error || report.error.trim() === report.headline.trim()) return undefined;
  if (report.error.length <= ERROR_TEXT_CHARS) return report.error;
  return `${report.error.slice(0, ERROR_TEXT_CHARS)}\n… (${count(report.error.length - ERROR_TEXT_CHARS)} more characters)`;
}

function warningsBlock(report: GateReport): string | undefined {
  const warnings = report.decision?.warnings ?? [];
  if (warnings.length === 0) return undefined;
  return ['> [!WARNING]', ...warnings.map((warning) => `> - ${inertProse(warning, { maxChars: VERDICT_LINE_CHARS })}`)].join('\n');
}

function hostModelOf(host: ReportedHost): HostUnderLoad {
  const stored = host.storedBaseline;
  return hostUnderLoad({
    bursts: host.bursts,
    machine: host.fingerprint,
    storedBaseline: stored && { run: stored.run, machine: stored.fingerprint },
  });
}

function hostSection(report: GateReport): string | undefined {
  const host = report.host;
  if (!host) return report.figures ? renderHostUnderLoad(hostUnderLoad(null)).trimEnd() : undefined;
  const model = hostModelOf(host);
  const swap = host.swap && `**Swap** (${untrusted(`swap: ${host.swap.mode}`)}): ${inertProse(swapState(host.swap), { maxChars: 1_000 })}.`;
  return [renderHostUnderLoad(model).trimEnd(), serviceMemorySection(report), swap].filter((part) => part !== undefined).join('\n\n');
}

/** "2.0 GiB active (/swapfile 2.0 GiB), 0 B used on 972 MiB RAM; swap is active: …" */
function swapState(swap: SwapReport): string {
  const { devices, totalBytes, usedBytes, memTotalBytes } = swap.after;
  const listed = devices.map((device) => `${device.path} ${formatBytes(device.sizeBytes)}`).join(', ');
  const state = devices.length === 0 ? 'no swap active' : `${formatBytes(totalBytes)} active (${listed}), ${formatBytes(usedBytes)} used`;
  return `${state} on ${formatBytes(memTotalBytes)} RAM; ${oneLine(swap.message).replace(/\.$/, '')}`;
}

interface Burst {
  result: BurstResult;
  health?: BurstHostHealth;
}

function burstsOf(report: GateReport): Burst[] {
  const health = new Map((report.host?.bursts ?? []).map((burst) => [`${burst.target}:${burst.burstIndex}`, burst]));
  return [...report.bursts]
    .sort((a, b) => a.index - b.index)
    .map((result) => ({ result, health: health.get(`${result.target}:${result.index}`) }));
}

function burstTable(report: GateReport, bursts: readonly Burst[]): string {
  const ab = report.bursts.some((burst) => burst.target === 'baseline');
  const withHost = report.host !== undefined;
  const header = [
    'Burst',
    ...(ab ? ['Target'] : []),
    'p50',
    'p95',
    'p99',
    'requests/s',
    'failed',
    'generator CPU',
    ...(withHost ? ['min MemAvailable', 'host'] : []),
  ];
  const rows = bursts.map(({ result, health }) =>
    [
      String(result.index + 1),
      ...(ab ? [result.target === 'baseline' ? 'baseline' : 'this PR'] : []),
      milliseconds(result.p50),
      milliseconds(result.p95),
      milliseconds(result.p99),
      result.requestsPerSec.toFixed(result.requestsPerSec >= 100 ? 0 : 1),
      `${count(result.non2xx + result.errors + result.timeouts)} (${plainPercent(result.errorRate)})`,
      `${Math.round(result.generatorCpu * 100)} %`,
      ...(withHost
        ? [formatMib(health?.figures.memAvailableMinKib ?? null) ?? '–', health ? health.flags.join(', ') : 'not observed']
        : []),
    ].map((value) => inertProse(value)),
  );
  return markdownTable([header, ...rows], {
    align: header.map((_, i) => (i === 0 || (ab && i === 1) || (withHost && i === header.length - 1) ? 'l' : 'r')),
  });
}

/** Config rows whose values are already quoted (code spans). */
const QUOTED_URL_ROWS = new Set(['url', 'baseline-url']);

function configTable(settings: PublicSettings): string {
  const rows: [string, string][] = [
    ['url', untrusted(redactedUrl(settings.url))],
    ['method', settings.method],
    ['connections', String(settings.connections)],
    ['duration', seconds(settings.durationMs)],
    ['bursts', String(settings.bursts)],
    ['warmup', seconds(settings.warmupMs)],
    ['pipelining', String(settings.pipelining)],
    ['timeout', seconds(settings.timeoutMs)],
    ['rate', settings.rate === null ? 'closed loop' : `${count(settings.rate)} req/s`],
    ['load-processes', String(settings.loadProcesses)],
    ['baseline-url', settings.abUrl === null ? '–' : untrusted(redactedUrl(settings.abUrl))],
    ['host', settings.host ?? '–'],
    ['max-median-increase', plainPercent(settings.maxMedianIncrease)],
    ['max-p95-increase', plainPercent(settings.maxP95Increase)],
    ['max-error-rate', plainPercent(settings.maxErrorRate)],
    ['p95-budget', settings.p95BudgetMs === null ? '–' : milliseconds(settings.p95BudgetMs)],
    ['baseline-store', settings.baselineStore],
    ['baseline-key', settings.baselineKey],
  ];
  // A report read back by `comment-from` comes from the measuring workflow: any value may be text.
  const shown = (name: string, value: string) => (QUOTED_URL_ROWS.has(name) ? value : inertProse(value));
  const cells = rows.map(([name, value]) => [`\`${name}\``, tableCell(shown(name, value))]);
  return markdownTable([['Setting', 'Value'], ...cells], { align: ['l', 'l'] });
}

function fingerprintList(host: ReportedHost): string {
  const machine = host.fingerprint;
  return [
    `- Host key: ${untrusted(host.hostKeyFingerprint)}`,
    `- Machine: ${inertProse(describeMachine(machine) ?? 'unknown')}`,
    `- CPU: ${inertProse(`${machine.cpuCount} × ${machine.cpuModel ?? 'unknown'}`)}`,
    `- Memory: ${formatMib(machine.memTotalKib) ?? 'unknown'}, swap ${formatMib(machine.swapTotalKib) ?? 'unknown'}`,
    `- Kernel: ${untrusted(machine.kernel)}`,
  ].join('\n');
}

const LATENCY_METRIC_NAMES = { p50: 'p50', p95: 'p95', p99: 'p99', requestsPerSec: 'requests/s', errorRate: 'error rate' } as const;
const METRIC_NAMES = { ...LATENCY_METRIC_NAMES, ...MEMORY_METRIC_NAMES };

function reasoningList(report: GateReport): string {
  const decision = report.decision;
  const base = report.baseline;
  const lines: string[] = [];
  if (decision) {
    lines.push(
      `- Mode: ${inertProse(decision.mode)}${decision.confirmed ? ', confirmed with extra bursts' : ''}${decision.crashed ? ', the target crashed under load' : ''}`,
    );
    const reasoning = (c: (typeof decision.comparisons)[number]) => inertProse(c.reasoning, { maxChars: VERDICT_LINE_CHARS });
    lines.push(...decision.comparisons.map((c) => `- **${METRIC_NAMES[c.metric]}**: ${reasoning(c)}`));
    lines.push(...decision.notes.map((note) => `- ${inertProse(note, { maxChars: VERDICT_LINE_CHARS })}`));
  }
  const recorded = `this run ${base.recorded ? 'was recorded' : 'was not recorded'}${base.recordNote ? `: ${base.recordNote}` : ''}`;
  const stored = `${base.location}, ${base.runs} comparable run${base.runs === 1 ? '' : 's'}; ${recorded}`;
  lines.push(`- Stored baseline: ${inertProse(stored, { maxChars: VERDICT_LINE_CHARS })}.`);
  const differences = inertProse(base.configDifferences.join('; '), { maxChars: VERDICT_LINE_CHARS });
  if (base.configDifferences.length > 0) lines.push(`- Settings differ from the baseline's: ${differences}.`);
  return lines.join('\n');
}

function runLink(report: GateReport, serverUrl: string): string {
  // On a pull request GITHUB_SHA is the test merge commit; the PR's own head commit is what a reader knows.
  const sha = report.context.headSha ?? report.context.sha;
  const commit = sha ? ` · commit ${untrusted(sha.slice(0, 7))}` : '';
  const runUrl = report.context.runUrl;
  const link = runUrl ? runLinkMarkdown(runUrl, serverUrl, 'Workflow run') : 'Run outside GitHub Actions (no workflow run)';
  return `${link}${commit} · ${inertProse(`${report.startedAt}${report.finishedAt ? ` → ${report.finishedAt}` : ''}`)}`;
}

/** How much of the details to show; anything less than everything is named in a note. */
interface Trim {
  /** Bursts shown in the per-burst table, from the first. */
  burstRows: number;
  /** Whether the sections after the per-burst table are shown. */
  otherDetails: boolean;
}

function details(report: GateReport, bursts: readonly Burst[], trim: Trim, serverUrl: string): string {
  const parts = [runLink(report, serverUrl)];
  if (bursts.length > 0 && trim.burstRows > 0)
    parts.push(`#### Per-burst figures\n\n${burstTable(report, bursts.slice(0, trim.burstRows))}`);
  if (trim.otherDetails) {
    parts.push(`#### Statistics\n\n${reasoningList(report)}`);
    parts.push(`#### Config\n\n${configTable(report.settings)}`);
    if (report.host) parts.push(`#### Host fingerprint\n\n${fingerprintList(report.host)}`);
  }
  return `<details>\n<summary>Details: per-burst figures, config, host fingerprint, statistics, workflow run</summary>\n\n${parts.join('\n\n')}\n\n</details>`;
}

function trimNote(bursts: number, trim: Trim, limitName: string): string | undefined {
  const cut: string[] = [];
  if (trim.burstRows < bursts)
    cut.push(
      trim.burstRows === 0 ? `the per-burst table (${bursts} bursts)` : `per-burst rows ${trim.burstRows + 1}–${bursts} of ${bursts}`,
    );
  if (!trim.otherDetails) cut.push('the statistics, config and host fingerprint details');
  if (cut.length === 0) return undefined;
  return `> ✂️ Trimmed to fit ${limitName}: ${cut.join(' and ')} left out. The full report is in the report JSON (the \`report\` output).`;
}

function errorBlockOf(report: GateReport): string | undefined {
  const text = errorText(report);
  return text === undefined ? undefined : fenced(text.split('\n'));
}

/** The verdict line as the comment's heading: it quotes crash lines and error text, shown inert. */
function verdictHeading(report: GateReport): string {
  return `### ${inertProse(verdictLine(report), { maxChars: 2 * VERDICT_LINE_CHARS })}`;
}

function mainSections(report: GateReport, columnTitle: string): string[] {
  const parts = [
    verdictHeading(report),
    whatWasMeasured(report),
    errorBlockOf(report),
    latencyTable(report, columnTitle) || undefined,
    warningsBlock(report),
  ];
  if (report.curve && report.figures) parts.push(latencyChart(report.curve, report.verdict));
  parts.push(hostSection(report));
  return parts.filter((part): part is string => part !== undefined && part !== '');
}

interface Budget {
  limit: number;
  measure: (text: string) => number;
  limitName: string;
  serverUrl: string;
}

/** The whole report, the details trimmed (per-burst rows first, then the rest) until it fits. */
function fitted(report: GateReport, head: string[], columnTitle: string, budget: Budget): string {
  const bursts = burstsOf(report);
  const main = mainSections(report, columnTitle);
  const compose = (trim: Trim) => {
    const note = trimNote(bursts.length, trim, budget.limitName);
    return `${[...head, ...main, details(report, bursts, trim, budget.serverUrl), ...(note ? [note] : [])].join('\n\n')}\n`;
  };
  const fits = (trim: Trim) => budget.measure(compose(trim)) <= budget.limit;
  const full: Trim = { burstRows: bursts.length, otherDetails: true };
  if (fits(full)) return compose(full);
  for (const otherDetails of [true, false]) {
    if (!fits({ burstRows: 0, otherDetails })) continue;
    let shown = 0;
    let tooMany = bursts.length + 1;
    while (tooMany - shown > 1) {
      const middle = Math.floor((shown + tooMany) / 2);
      if (fits({ burstRows: middle, otherDetails })) shown = middle;
      else tooMany = middle;
    }
    return compose({ burstRows: shown, otherDetails });
  }
  // Only an enormous error text or host log gets here: the verdict and the table still fit.
  const tooLong = `> ✂️ This report is too long for ${budget.limitName}: only the verdict and the table are shown. The full report is in the report JSON (the \`report\` output).`;
  return `${[...head, verdictHeading(report), latencyTable(report, columnTitle), runLink(report, budget.serverUrl), tooLong].filter((part) => part !== '').join('\n\n')}\n`;
}

/** The PR comment: marker, verdict line, table, chart, host, then the details; under `maxChars`. */
export function renderCommentBody(report: GateReport, options: CommentBodyOptions): string {
  return fitted(report, [options.marker], 'This PR', {
    limit: options.maxChars ?? COMMENT_MAX_CHARS,
    measure: (text) => text.length,
    limitName: "GitHub's comment size limit",
    serverUrl: options.serverUrl ?? DEFAULT_SERVER_URL,
  });
}

/** For `comment: on-regression` once a PR that regressed passes: the old comment says so. */
export function renderResolvedCommentBody(report: GateReport, options: Pick<CommentBodyOptions, 'marker' | 'serverUrl'>): string {
  const headline = `<sub>${inertProse(report.headline, { maxChars: VERDICT_LINE_CHARS })}</sub>`;
  const runUrl = runLink(report, options.serverUrl ?? DEFAULT_SERVER_URL);
  const heading = `### ✅ ${report.name}: resolved: no regression any more`;
  const parts = [options.marker, heading, headline, latencyTable(report, 'This PR'), runUrl];
  return `${parts.filter((part) => part !== '').join('\n\n')}\n`;
}

/** The job summary: the comment without its marker, under the summary's byte cap. */
export function renderSummary(report: GateReport, options: Pick<CommentBodyOptions, 'serverUrl'> = {}): string {
  const encoder = new TextEncoder();
  return fitted(report, [], report.context.pullRequestNumber === undefined ? 'This run' : 'This PR', {
    limit: SUMMARY_MAX_BYTES,
    measure: (text) => encoder.encode(text).length,
    limitName: 'the 1 MiB job summary limit',
    serverUrl: options.serverUrl ?? DEFAULT_SERVER_URL,
  });
}

/** The CLI's report: verdict line, table, warnings and what happened to the host, as plain text. */
export function renderTerminal(report: GateReport): string {
  const lines = [verdictLine(report)];
  const error = errorText(report);
  if (error) lines.push('', error);
  const table = latencyTable(report);
  if (table) lines.push('', table);
  const warnings = report.decision?.warnings ?? [];
  if (warnings.length > 0) lines.push('', ...warnings.map((warning) => `warning: ${oneLine(warning)}`));
  if (report.host) {
    const model = hostModelOf(report.host);
    if (model.observed) lines.push('', `host: ${model.diagnosis}`, `machine: ${model.machine}`);
    if (report.host.swap) lines.push(`swap (${report.host.swap.mode}): ${swapState(report.host.swap)}`);
  }
  if (report.context.runUrl) lines.push('', `run: ${report.context.runUrl}`);
  return `${lines.join('\n')}\n`;
}
