// What a run says where people read it: the PR comment, the job summary and the terminal. One
// layout for all three, built from the GateReport alone (so `comment-from` renders the same
// comment from a report file). Pure: no I/O, no environment.

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
import { latencyTable, measuredLatency } from './latency-table.ts';
import { oneLine } from './markdown.ts';
import { fenced, inertProse, joinMarkdown, markdown, runLinkMarkdown, table, untrusted, type Markdown } from './untrusted-text.ts';
import { MEMORY_METRIC_NAMES, serviceMemorySection, serviceProcessList } from './memory-rows.ts';

type ReportedHost = NonNullable<GateReport['host']>;

export interface CommentBodyOptions {
  /** The hidden line that identifies this gate's comment, e.g. `<!-- loadgate:api -->` (`commentMarker`). */
  marker: Markdown;
  maxChars?: number;
  /** The GitHub server this run talks to (`GITHUB_SERVER_URL`): the only host a run link may point at. */
  serverUrl?: string;
}

const DEFAULT_SERVER_URL = 'https://github.com';
const NEWLINE = markdown`\n`;
const BLANK_LINE = markdown`\n\n`;
const FULL_REPORT = markdown`The full report is in the report JSON (the \`report\` output).`;

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

function whatWasMeasured(report: GateReport): Markdown {
  const s = report.settings;
  const load = `${s.bursts} bursts × ${seconds(s.durationMs)}, ${s.connections} connections${s.rate ? ` at ${count(s.rate)} req/s` : ''}`;
  const target = untrusted(`${s.method} ${redactedUrl(s.url)}`);
  const base = report.baseline;
  const baseline = s.abUrl
    ? markdown`A/B against ${untrusted(redactedUrl(s.abUrl))}`
    : inertProse(`baseline ${base.location}${base.runs > 0 ? `, ${base.runs} run${base.runs === 1 ? '' : 's'}` : ''}`);
  return markdown`<sub>${joinMarkdown([inertProse(load), target, baseline], markdown` · `)}</sub>`;
}

function errorText(report: GateReport): string | undefined {
  if (!report.error || report.error.trim() === report.headline.trim()) return undefined;
  if (report.error.length <= ERROR_TEXT_CHARS) return report.error;
  return `${report.error.slice(0, ERROR_TEXT_CHARS)}\n… (${count(report.error.length - ERROR_TEXT_CHARS)} more characters)`;
}

function warningsBlock(report: GateReport): Markdown | undefined {
  const warnings = report.decision?.warnings ?? [];
  if (warnings.length === 0) return undefined;
  const items = warnings.map((warning) => markdown`> - ${inertProse(warning, { maxChars: VERDICT_LINE_CHARS })}`);
  return joinMarkdown([markdown`> [!WARNING]`, ...items], NEWLINE);
}

function hostModelOf(host: ReportedHost): HostUnderLoad {
  const stored = host.storedBaseline;
  return hostUnderLoad({
    bursts: host.bursts,
    machine: host.fingerprint,
    storedBaseline: stored && { run: stored.run, machine: stored.fingerprint },
  });
}

function hostSection(report: GateReport): Markdown | undefined {
  const host = report.host;
  if (!host) return report.figures ? renderHostUnderLoad(hostUnderLoad(null)) : undefined;
  const model = hostModelOf(host);
  const swap =
    host.swap && markdown`**Swap** (${untrusted(`swap: ${host.swap.mode}`)}): ${inertProse(swapState(host.swap), { maxChars: 1_000 })}.`;
  return joinMarkdown([renderHostUnderLoad(model), serviceMemorySection(report), swap], BLANK_LINE);
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

function burstTable(report: GateReport, bursts: readonly Burst[]): Markdown {
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
  const rows = bursts.map(({ result, health }) => [
    String(result.index + 1),
    ...(ab ? [result.target === 'baseline' ? 'baseline' : 'this PR'] : []),
    // Without a 2xx response a burst's empty histogram reads 0: no latency was measured.
    ...[result.p50, result.p95, result.p99].map((ms) => (result.ok > 0 ? milliseconds(ms) : '—')),
    result.requestsPerSec.toFixed(result.requestsPerSec >= 100 ? 0 : 1),
    `${count(result.non2xx + result.errors + result.timeouts)} (${plainPercent(result.errorRate)})`,
    `${Math.round(result.generatorCpu * 100)} %`,
    ...(withHost ? [formatMib(health?.figures.memAvailableMinKib ?? null) ?? '–', health ? health.flags.join(', ') : 'not observed'] : []),
  ]);
  const cells = [header, ...rows].map((row) => row.map((cell) => inertProse(cell)));
  return table(
    cells,
    header.map((_, i) => (i === 0 || (ab && i === 1) || (withHost && i === header.length - 1) ? 'l' : 'r')),
  );
}

function configTable(settings: PublicSettings): Markdown {
  // A report read back by `comment-from` comes from the measuring workflow: any value may be text.
  const prose = (value: string | number) => inertProse(String(value));
  const rows: [string, Markdown][] = [
    ['url', untrusted(redactedUrl(settings.url))],
    ['method', prose(settings.method)],
    ['connections', prose(settings.connections)],
    ['duration', prose(seconds(settings.durationMs))],
    ['bursts', prose(settings.bursts)],
    ['warmup', prose(seconds(settings.warmupMs))],
    ['pipelining', prose(settings.pipelining)],
    ['timeout', prose(seconds(settings.timeoutMs))],
    ['rate', prose(settings.rate === null ? 'closed loop' : `${count(settings.rate)} req/s`)],
    ['load-processes', prose(settings.loadProcesses)],
    ['baseline-url', settings.abUrl === null ? prose('–') : untrusted(redactedUrl(settings.abUrl))],
    ['host', prose(settings.host ?? '–')],
    ['max-median-increase', prose(plainPercent(settings.maxMedianIncrease))],
    ['max-p95-increase', prose(plainPercent(settings.maxP95Increase))],
    ['max-error-rate', prose(plainPercent(settings.maxErrorRate))],
    ['p95-budget', prose(settings.p95BudgetMs === null ? '–' : milliseconds(settings.p95BudgetMs))],
    ['baseline-store', prose(settings.baselineStore)],
    ['baseline-key', prose(settings.baselineKey)],
  ];
  const cells = rows.map(([name, value]) => [untrusted(name), value]);
  return table([[markdown`Setting`, markdown`Value`], ...cells], ['l', 'l']);
}

function fingerprintList(host: ReportedHost): Markdown {
  const machine = host.fingerprint;
  const memory = `${formatMib(machine.memTotalKib) ?? 'unknown'}, swap ${formatMib(machine.swapTotalKib) ?? 'unknown'}`;
  const lines = [
    markdown`- Host key: ${untrusted(host.hostKeyFingerprint)}`,
    markdown`- Machine: ${inertProse(describeMachine(machine) ?? 'unknown')}`,
    markdown`- CPU: ${inertProse(`${machine.cpuCount} × ${machine.cpuModel ?? 'unknown'}`)}`,
    markdown`- Memory: ${inertProse(memory)}`,
    markdown`- Kernel: ${untrusted(machine.kernel)}`,
  ];
  return joinMarkdown(lines, NEWLINE);
}

const LATENCY_METRIC_NAMES = { p50: 'p50', p95: 'p95', p99: 'p99', requestsPerSec: 'requests/s', errorRate: 'error rate' } as const;
const METRIC_NAMES = { ...LATENCY_METRIC_NAMES, ...MEMORY_METRIC_NAMES };

function reasoningList(report: GateReport): Markdown {
  const decision = report.decision;
  const base = report.baseline;
  const sentence = (text: string) => inertProse(text, { maxChars: VERDICT_LINE_CHARS });
  const lines: Markdown[] = [];
  if (decision) {
    const mode = `${decision.mode}${decision.confirmed ? ', confirmed with extra bursts' : ''}${decision.crashed ? ', the target crashed under load' : ''}`;
    lines.push(markdown`- Mode: ${inertProse(mode)}`);
    lines.push(...decision.comparisons.map((c) => markdown`- **${inertProse(METRIC_NAMES[c.metric])}**: ${sentence(c.reasoning)}`));
    lines.push(...decision.notes.map((note) => markdown`- ${sentence(note)}`));
  }
  const recorded = `this run ${base.recorded ? 'was recorded' : 'was not recorded'}${base.recordNote ? `: ${base.recordNote}` : ''}`;
  const stored = `${base.location}, ${base.runs} comparable run${base.runs === 1 ? '' : 's'}; ${recorded}`;
  lines.push(markdown`- Stored baseline: ${sentence(stored)}.`);
  if (base.configDifferences.length > 0)
    lines.push(markdown`- Settings differ from the baseline's: ${sentence(base.configDifferences.join('; '))}.`);
  return joinMarkdown(lines, NEWLINE);
}

function runLink(report: GateReport, serverUrl: string): Markdown {
  // On a pull request GITHUB_SHA is the test merge commit; the PR's own head commit is what a reader knows.
  const sha = report.context.headSha ?? report.context.sha;
  const runUrl = report.context.runUrl;
  const link = runUrl ? runLinkMarkdown(runUrl, serverUrl, markdown`Workflow run`) : markdown`Run outside GitHub Actions (no workflow run)`;
  const commit = sha ? markdown`commit ${untrusted(sha.slice(0, 7))}` : undefined;
  const times = inertProse(`${report.startedAt}${report.finishedAt ? ` → ${report.finishedAt}` : ''}`);
  return joinMarkdown([link, commit, times], markdown` · `);
}

/** How much of the details to show; anything less than everything is named in a note. */
interface Trim {
  /** Bursts shown in the per-burst table, from the first. */
  burstRows: number;
  /** Whether the sections after the per-burst table are shown. */
  otherDetails: boolean;
}

function details(report: GateReport, bursts: readonly Burst[], trim: Trim, serverUrl: string): Markdown {
  const parts = [runLink(report, serverUrl)];
  if (bursts.length > 0 && trim.burstRows > 0)
    parts.push(markdown`#### Per-burst figures\n\n${burstTable(report, bursts.slice(0, trim.burstRows))}`);
  if (trim.otherDetails) {
    parts.push(markdown`#### Statistics\n\n${reasoningList(report)}`);
    parts.push(markdown`#### Config\n\n${configTable(report.settings)}`);
    if (report.host) parts.push(markdown`#### Host fingerprint\n\n${fingerprintList(report.host)}`);
    const processes = serviceProcessList(report);
    if (processes) parts.push(markdown`#### Service processes\n\n${processes}`);
  }
  const summary = markdown`<summary>Details: per-burst figures, config, host fingerprint, statistics, workflow run</summary>`;
  return markdown`<details>\n${summary}\n\n${joinMarkdown(parts, BLANK_LINE)}\n\n</details>`;
}

function trimNote(bursts: number, trim: Trim, limitName: Markdown): Markdown | undefined {
  const cut: string[] = [];
  if (trim.burstRows < bursts)
    cut.push(
      trim.burstRows === 0 ? `the per-burst table (${bursts} bursts)` : `per-burst rows ${trim.burstRows + 1}–${bursts} of ${bursts}`,
    );
  if (!trim.otherDetails) cut.push('the statistics, config and host fingerprint details');
  if (cut.length === 0) return undefined;
  return markdown`> ✂️ Trimmed to fit ${limitName}: ${inertProse(cut.join(' and '))} left out. ${FULL_REPORT}`;
}

function errorBlockOf(report: GateReport): Markdown | undefined {
  const text = errorText(report);
  return text === undefined ? undefined : fenced(text.split('\n'));
}

/** The verdict line as the comment's heading: it quotes crash lines and error text, shown inert. */
function verdictHeading(report: GateReport): Markdown {
  return markdown`### ${inertProse(verdictLine(report), { maxChars: 2 * VERDICT_LINE_CHARS })}`;
}

function mainSections(report: GateReport, columnTitle: string): Markdown[] {
  const parts = [
    verdictHeading(report),
    whatWasMeasured(report),
    errorBlockOf(report),
    latencyTable(report, columnTitle),
    warningsBlock(report),
  ];
  if (report.curve && report.figures && measuredLatency(report)) parts.push(latencyChart(report.curve, report.verdict));
  parts.push(hostSection(report));
  return parts.filter((part): part is Markdown => part !== undefined && part !== '');
}

interface Budget {
  limit: number;
  measure: (text: string) => number;
  limitName: Markdown;
  serverUrl: string;
}

/**
 * The whole report, trimmed until it measures under the budget: per-burst rows first, then the
 * other details, then everything but the verdict and the table, then the table.
 */
function fitted(report: GateReport, head: readonly Markdown[], columnTitle: string, budget: Budget): Markdown {
  const bursts = burstsOf(report);
  const main = mainSections(report, columnTitle);
  const document = (parts: readonly (Markdown | undefined)[]) => markdown`${joinMarkdown([...head, ...parts], BLANK_LINE)}\n`;
  const fits = (text: Markdown) => budget.measure(text) <= budget.limit;
  const compose = (trim: Trim) =>
    document([...main, details(report, bursts, trim, budget.serverUrl), trimNote(bursts.length, trim, budget.limitName)]);
  const full: Trim = { burstRows: bursts.length, otherDetails: true };
  if (fits(compose(full))) return compose(full);
  for (const otherDetails of [true, false]) {
    if (!fits(compose({ burstRows: 0, otherDetails }))) continue;
    let shown = 0;
    let tooMany = bursts.length + 1;
    while (tooMany - shown > 1) {
      const middle = Math.floor((shown + tooMany) / 2);
      if (fits(compose({ burstRows: middle, otherDetails }))) shown = middle;
      else tooMany = middle;
    }
    return compose({ burstRows: shown, otherDetails });
  }
  // Only an enormous error text, host log, list of warnings or table gets here.
  const link = runLink(report, budget.serverUrl);
  const tooLong = (shown: Markdown) => markdown`> ✂️ This report is too long for ${budget.limitName}: only ${shown} shown. ${FULL_REPORT}`;
  const withTable = document([
    verdictHeading(report),
    latencyTable(report, columnTitle),
    link,
    tooLong(markdown`the verdict and the table are`),
  ]);
  if (fits(withTable)) return withTable;
  // The verdict line and the run link are capped: this fits any budget the renderers below use.
  return document([verdictHeading(report), link, tooLong(markdown`the verdict is`)]);
}

/** The PR comment: marker, verdict line, table, chart, host, then the details; under `maxChars`. */
export function renderCommentBody(report: GateReport, options: CommentBodyOptions): Markdown {
  return fitted(report, [options.marker], 'This PR', {
    limit: options.maxChars ?? COMMENT_MAX_CHARS,
    measure: (text) => text.length,
    limitName: markdown`GitHub's comment size limit`,
    serverUrl: options.serverUrl ?? DEFAULT_SERVER_URL,
  });
}

/** For `comment: on-regression` once a PR that regressed passes: the old comment says so. */
export function renderResolvedCommentBody(report: GateReport, options: Pick<CommentBodyOptions, 'marker' | 'serverUrl'>): Markdown {
  const headline = markdown`<sub>${inertProse(report.headline, { maxChars: VERDICT_LINE_CHARS })}</sub>`;
  const runUrl = runLink(report, options.serverUrl ?? DEFAULT_SERVER_URL);
  const heading = markdown`### ✅ ${inertProse(report.name)}: resolved: no regression any more`;
  return markdown`${joinMarkdown([options.marker, heading, headline, latencyTable(report, 'This PR'), runUrl], BLANK_LINE)}\n`;
}

/** The job summary: the comment without its marker, under the summary's byte cap. */
export function renderSummary(report: GateReport, options: Pick<CommentBodyOptions, 'serverUrl'> = {}): Markdown {
  const encoder = new TextEncoder();
  return fitted(report, [], report.context.pullRequestNumber === undefined ? 'This run' : 'This PR', {
    limit: SUMMARY_MAX_BYTES,
    measure: (text) => encoder.encode(text).length,
    limitName: markdown`the 1 MiB job summary limit`,
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
