// What a run says where people read it: the PR comment, the job summary and the terminal. One
// layout for all three, built from the GateReport alone (so `comment-from` renders the same
// comment from a report file). Pure: no I/O, no environment.

import { markdownTable } from 'markdown-table';
import type { BurstResult } from '../load/measurement.ts';
import { formatBytes } from '../remote/swap-state.ts';
import type { SwapReport } from '../remote/swap.ts';
import { count, milliseconds, plainPercent } from '../verdict/wording.ts';
import { describeMachine, formatMib } from '../watch/fingerprint.ts';
import type { BurstHostHealth } from '../watch/health.ts';
import { hostUnderLoad, renderHostUnderLoad } from '../watch/host-summary.ts';
import type { GateReport, PublicSettings } from './gate-report.ts';
import { headlineOf } from './headline.ts';
import { latencyChart } from './latency-chart.ts';
import { latencyTable } from './latency-table.ts';
import { MEMORY_METRIC_NAMES, serviceMemorySection } from './memory-rows.ts';

/** Room under GitHub's 65,536-character comment limit, for whatever the poster adds. */
export const COMMENT_MAX_CHARS = 65_000;
/** The job summary's cap is 1 MiB per step, counted in bytes. */
export const SUMMARY_MAX_BYTES = 1_000_000;

type ReportedHost = NonNullable<GateReport['host']>;

export interface CommentBodyOptions {
  /** The hidden line that identifies this gate's comment, e.g. `<!-- loadgate:api -->`. */
  marker: string;
  maxChars?: number;
}

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

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** `https://user:secret@host/…` would show its password: keep only the URL's public part. */
function publicUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** A table cell that holds user text: a `|` would split the cell, a newline the row. */
function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function whatWasMeasured(report: GateReport): string {
  const s = report.settings;
  const load = `${s.bursts} bursts × ${seconds(s.durationMs)}, ${s.connections} connections${s.rate ? ` at ${count(s.rate)} req/s` : ''}`;
  const target = `${s.method} ${publicUrl(s.url)}`;
  const base = report.baseline;
  const baseline = s.abUrl
    ? `A/B against \`${publicUrl(s.abUrl)}\``
    : `baseline ${base.location}${base.runs > 0 ? `, ${base.runs} run${base.runs === 1 ? '' : 's'}` : ''}`;
  return `<sub>${[load, `\`${target}\``, baseline].join(' · ')}</sub>`;
}

function errorText(report: GateReport): string | undefined {
  if (!report.error || report.error.trim() === report.headline.trim()) return undefined;
  if (report.error.length <= ERROR_TEXT_CHARS) return report.error;
  return `${report.error.slice(0, ERROR_TEXT_CHARS)}\n… (${count(report.error.length - ERROR_TEXT_CHARS)} more characters)`;
}

/** A code block whose fence is longer than any backtick run inside, so the text cannot end it. */
function fenced(lines: readonly string[]): string {
  const longestRun = Math.max(0, ...lines.flatMap((line) => (line.match(/`+/g) ?? []).map((run) => run.length)));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}text\n${lines.join('\n')}\n${fence}`;
}

function warningsBlock(report: GateReport): string | undefined {
  const warnings = report.decision?.warnings ?? [];
  if (warnings.length === 0) return undefined;
  return ['> [!WARNING]', ...warnings.map((warning) => `> - ${oneLine(warning)}`)].join('\n');
}

function hostSection(report: GateReport): string | undefined {
  const host = report.host;
  if (!host) return report.figures ? renderHostUnderLoad(hostUnderLoad(null)).trimEnd() : undefined;
  const model = hostUnderLoad({ bursts: host.bursts, fingerprint: host.fingerprint, storedBaseline: host.storedBaseline });
  const swap = host.swap && `**Swap** (\`swap: ${host.swap.mode}\`): ${swapState(host.swap)}.`;
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
  const header = ['Burst', ...(ab ? ['Target'] : []), 'p50', 'p95', 'p99', 'requests/s', 'failed', 'generator CPU', ...(withHost ? ['min MemAvailable', 'host'] : [])];
  const rows = bursts.map(({ result, health }) => [
    String(result.index + 1),
    ...(ab ? [result.target === 'baseline' ? 'baseline' : 'this PR'] : []),
    milliseconds(result.p50),
    milliseconds(result.p95),
    milliseconds(result.p99),
    result.requestsPerSec.toFixed(result.requestsPerSec >= 100 ? 0 : 1),
    `${count(result.non2xx + result.errors + result.timeouts)} (${plainPercent(result.errorRate)})`,
    `${Math.round(result.generatorCpu * 100)} %`,
    ...(withHost ? [formatMib(health?.figures.memAvailableMinKib ?? null) ?? '–', health ? health.flags.join(', ') : 'not observed'] : []),
  ]);
  return markdownTable([header, ...rows], { align: header.map((_, i) => (i === 0 || (ab && i === 1) || (withHost && i === header.length - 1) ? 'l' : 'r')) });
}

function configTable(settings: PublicSettings): string {
  const rows: [string, string][] = [
    ['url', publicUrl(settings.url)],
    ['method', settings.method],
    ['connections', String(settings.connections)],
    ['duration', seconds(settings.durationMs)],
    ['bursts', String(settings.bursts)],
    ['warmup', seconds(settings.warmupMs)],
    ['pipelining', String(settings.pipelining)],
    ['timeout', seconds(settings.timeoutMs)],
    ['rate', settings.rate === null ? 'closed loop' : `${count(settings.rate)} req/s`],
    ['load-processes', String(settings.loadProcesses)],
    ['baseline-url', settings.abUrl === null ? '–' : publicUrl(settings.abUrl)],
    ['host', settings.host ?? '–'],
    ['max-median-increase', plainPercent(settings.maxMedianIncrease)],
    ['max-p95-increase', plainPercent(settings.maxP95Increase)],
    ['max-error-rate', plainPercent(settings.maxErrorRate)],
    ['p95-budget', settings.p95BudgetMs === null ? '–' : milliseconds(settings.p95BudgetMs)],
    ['baseline-store', settings.baselineStore],
    ['baseline-key', settings.baselineKey],
  ];
  return markdownTable([['Setting', 'Value'], ...rows.map(([name, value]) => [`\`${name}\``, cell(value)])], { align: ['l', 'l'] });
}

function fingerprintList(host: ReportedHost): string {
  const f = host.fingerprint;
  return [
    `- Host key: \`${host.hostKeyFingerprint}\``,
    `- Machine: ${describeMachine(f) ?? 'unknown'}`,
    `- CPU: ${f.cpuCount} × ${f.cpuModel ?? 'unknown'}`,
    `- Memory: ${formatMib(f.memTotalKib) ?? 'unknown'}, swap ${formatMib(f.swapTotalKib) ?? 'unknown'}`,
    `- Kernel: ${f.kernel}`,
  ].join('\n');
}

const LATENCY_METRIC_NAMES = { p50: 'p50', p95: 'p95', p99: 'p99', requestsPerSec: 'requests/s', errorRate: 'error rate' } as const;
const METRIC_NAMES = { ...LATENCY_METRIC_NAMES, ...MEMORY_METRIC_NAMES };

function reasoningList(report: GateReport): string {
  const decision = report.decision;
  const base = report.baseline;
  const lines: string[] = [];
  if (decision) {
    lines.push(`- Mode: ${decision.mode}${decision.confirmed ? ', confirmed with extra bursts' : ''}${decision.crashed ? ', the target crashed under load' : ''}`);
    lines.push(...decision.comparisons.map((c) => `- **${METRIC_NAMES[c.metric]}**: ${oneLine(c.reasoning)}`));
    lines.push(...decision.notes.map((note) => `- ${oneLine(note)}`));
  }
  lines.push(`- Stored baseline: ${base.location}, ${base.runs} comparable run${base.runs === 1 ? '' : 's'}; this run ${base.recorded ? 'was recorded' : 'was not recorded'}${base.recordNote ? `: ${base.recordNote}` : ''}.`);
  if (base.configDifferences.length > 0) lines.push(`- Settings differ from the baseline's: ${base.configDifferences.join('; ')}.`);
  return lines.join('\n');
}

function runLink(report: GateReport): string {
  const commit = report.context.sha ? ` · commit \`${report.context.sha.slice(0, 7)}\`` : '';
  const link = report.context.runUrl ? `[Workflow run](${report.context.runUrl})` : 'Run outside GitHub Actions (no workflow run)';
  return `${link}${commit} · ${report.startedAt}${report.finishedAt ? ` → ${report.finishedAt}` : ''}`;
}

/** How much of the details to show; anything less than everything is named in a note. */
interface Trim {
  /** Bursts shown in the per-burst table, from the first. */
  burstRows: number;
  /** Whether the sections after the per-burst table are shown. */
  otherDetails: boolean;
}

function details(report: GateReport, bursts: readonly Burst[], trim: Trim): string {
  const parts = [runLink(report)];
  if (bursts.length > 0 && trim.burstRows > 0) parts.push(`#### Per-burst figures\n\n${burstTable(report, bursts.slice(0, trim.burstRows))}`);
  if (trim.otherDetails) {
    parts.push(`#### Statistics\n\n${reasoningList(report)}`);
    parts.push(`#### Config\n\n${configTable(report.settings)}`);
    if (report.host) parts.push(`#### Host fingerprint\n\n${fingerprintList(report.host)}`);
  }
  return `<details>\n<summary>Details: per-burst figures, config, host fingerprint, statistics, workflow run</summary>\n\n${parts.join('\n\n')}\n\n</details>`;
}

function trimNote(bursts: number, trim: Trim, limitName: string): string | undefined {
  const cut: string[] = [];
  if (trim.burstRows < bursts) cut.push(trim.burstRows === 0 ? `the per-burst table (${bursts} bursts)` : `per-burst rows ${trim.burstRows + 1}–${bursts} of ${bursts}`);
  if (!trim.otherDetails) cut.push('the statistics, config and host fingerprint details');
  if (cut.length === 0) return undefined;
  return `> ✂️ Trimmed to fit ${limitName}: ${cut.join(' and ')} left out. The full report is in the report JSON (the \`report\` output).`;
}

function errorBlockOf(report: GateReport): string | undefined {
  const text = errorText(report);
  return text === undefined ? undefined : fenced(text.split('\n'));
}

function mainSections(report: GateReport, columnTitle: string): string[] {
  const parts = [`### ${verdictLine(report)}`, whatWasMeasured(report), errorBlockOf(report), latencyTable(report, columnTitle) || undefined, warningsBlock(report)];
  if (report.curve && report.figures) parts.push(latencyChart(report.curve, report.verdict));
  parts.push(hostSection(report));
  return parts.filter((part): part is string => part !== undefined && part !== '');
}

interface Budget {
  limit: number;
  measure: (text: string) => number;
  limitName: string;
}

/** The whole report, the details trimmed (per-burst rows first, then the rest) until it fits. */
function fitted(report: GateReport, head: string[], columnTitle: string, budget: Budget): string {
  const bursts = burstsOf(report);
  const main = mainSections(report, columnTitle);
  const compose = (trim: Trim) => {
    const note = trimNote(bursts.length, trim, budget.limitName);
    return `${[...head, ...main, details(report, bursts, trim), ...(note ? [note] : [])].join('\n\n')}\n`;
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
  return `${[...head, `### ${verdictLine(report)}`, latencyTable(report, columnTitle), runLink(report), tooLong].filter((part) => part !== '').join('\n\n')}\n`;
}

/** The PR comment: marker, verdict line, table, chart, host, then the details; under `maxChars`. */
export function renderCommentBody(report: GateReport, options: CommentBodyOptions): string {
  return fitted(report, [options.marker], 'This PR', {
    limit: options.maxChars ?? COMMENT_MAX_CHARS,
    measure: (text) => text.length,
    limitName: "GitHub's comment size limit",
  });
}

/** For `comment: on-regression` once a PR that regressed passes: the old comment says so. */
export function renderResolvedCommentBody(report: GateReport, options: Pick<CommentBodyOptions, 'marker'>): string {
  const parts = [options.marker, `### ✅ ${report.name}: resolved: no regression any more`, `<sub>${oneLine(report.headline)}</sub>`, latencyTable(report, 'This PR'), runLink(report)];
  return `${parts.filter((part) => part !== '').join('\n\n')}\n`;
}

/** The job summary: the comment without its marker, under the summary's byte cap. */
export function renderSummary(report: GateReport): string {
  const encoder = new TextEncoder();
  return fitted(report, [], report.context.pullRequestNumber === undefined ? 'This run' : 'This PR', {
    limit: SUMMARY_MAX_BYTES,
    measure: (text) => encoder.encode(text).length,
    limitName: 'the 1 MiB job summary limit',
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
    const model = hostUnderLoad({ bursts: report.host.bursts, fingerprint: report.host.fingerprint, storedBaseline: report.host.storedBaseline });
    if (model.observed) lines.push('', `host: ${model.diagnosis}`, `machine: ${model.machine}`);
    if (report.host.swap) lines.push(`swap (${report.host.swap.mode}): ${swapState(report.host.swap)}`);
  }
  if (report.context.runUrl) lines.push('', `run: ${report.context.runUrl}`);
  return `${lines.join('\n')}\n`;
}
