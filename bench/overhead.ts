// Figure 4: what a run costs beyond the load it was asked to send. The bundle is run the way the
// runner runs it (`node dist/index.js`, inputs as INPUT_* variables); stdout lines are timestamped
// as they arrive, so start-up is spawn → first log line and the SSH phases (connect, lock, swap
// check, host watch start) are the gaps between their log lines in the same run against a loopback
// sshd. Statistics and report are timed in this process on the bursts the bundle measured.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryRun } from '../src/baseline/history.ts';
import { historyBurstOf } from '../src/baseline/history.ts';
import { startTarget } from '../src/demo/target.ts';
import { latencyCurve, mergeHistograms } from '../src/load/histogram.ts';
import type { BurstResult } from '../src/load/measurement.ts';
import { renderCommentBody, renderSummary } from '../src/report/comment-body.ts';
import type { GateReport } from '../src/report/gate-report.ts';
import { commentMarker } from '../src/report/pull-request-comment.ts';
import { decide, historySource } from '../src/verdict/decide.ts';
import { endpointFigures, reduceRun } from '../src/verdict/reduce-run.ts';
import { atMost, fmt, fmtSpread, worst, type Figure } from './figure.ts';
import { spread } from './stats.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const BUNDLE = join(ROOT, 'dist/index.js');

export interface BundleTiming {
  /** Spawn → first line on stdout. */
  startupMs: number;
  wallMs: number;
  /** Warmup + bursts × duration, as configured. */
  configuredLoadMs: number;
  /** Each stdout line with the time (ms after spawn) it arrived. */
  lines: { atMs: number; text: string }[];
  verdict: string;
  headline: string;
  report?: GateReport;
}

/** When the first line matching `pattern` arrived (ms after spawn); NaN when none did. */
export function lineAt(run: BundleTiming, pattern: RegExp): number {
  return run.lines.find((line) => pattern.test(line.text))?.atMs ?? Number.NaN;
}

export interface LoopbackSsh {
  inputs: Record<string, string>;
  stop(): Promise<void>;
}

export function buildBundle(): void {
  const result = spawnSync(process.execPath, ['build.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0)
    throw new Error(`node build.mjs failed:\n${(result.stderr || result.stdout).trim().split('\n').slice(0, 8).join('\n')}`);
}

/** The bundle's Node: the action's node24 when `npm test` installed it, else this one. */
export function bundleNode(): string {
  return process.env.LOADGATE_NODE24 ?? process.execPath;
}

/** Bare `node -e ''`: the part of the start-up no bundle can save. */
export function nodeStartupMs(): number {
  const started = performance.now();
  spawnSync(bundleNode(), ['-e', '']);
  return performance.now() - started;
}

export async function timeBundleRun(
  url: string,
  load: { bursts: number; durationMs: number; warmupMs: number },
  extraInputs: Record<string, string> = {},
): Promise<BundleTiming> {
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-bench-bundle-'));
  try {
    const files = { output: join(dir, 'output'), summary: join(dir, 'summary'), event: join(dir, 'event.json') };
    await Promise.all([writeFile(files.output, ''), writeFile(files.summary, ''), writeFile(files.event, '{}')]);
    const inputs: Record<string, string> = {
      url,
      bursts: String(load.bursts),
      duration: `${load.durationMs}ms`,
      warmup: `${load.warmupMs}ms`,
      connections: '10',
      'baseline-store': 'none',
      comment: 'never',
      ...extraInputs,
    };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'workflow_dispatch',
      GITHUB_EVENT_PATH: files.event,
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_REPOSITORY: 'octo-org/shop',
      GITHUB_REF: 'refs/heads/feature',
      GITHUB_SHA: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0',
      GITHUB_RUN_ID: '1',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'http://127.0.0.1:9/',
      GITHUB_WORKSPACE: dir,
      RUNNER_TEMP: dir,
      ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
    };
    const started = performance.now();
    const child = spawn(bundleNode(), [BUNDLE], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: BundleTiming['lines'] = [];
    child.stdout.on('data', (chunk) => {
      const atMs = performance.now() - started;
      // `::add-mask::` lines carry the secrets the runner must hide: never keep them.
      for (const text of String(chunk).split('\n')) if (text && !text.startsWith('::add-mask::')) lines.push({ atMs, text });
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const configuredLoadMs = load.warmupMs + load.bursts * load.durationMs;
    const timer = setTimeout(() => child.kill('SIGKILL'), configuredLoadMs + 60_000);
    await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const wallMs = performance.now() - started;
    if (lines.length === 0) throw new Error(`the bundle printed nothing:\n${stderr}`.slice(0, 3000));
    const reportPath = /^report<<(\S+)\n(.*)\n\1$/m.exec(await readFile(files.output, 'utf8'))?.[2];
    const report = reportPath && existsSync(reportPath) ? (JSON.parse(await readFile(reportPath, 'utf8')) as GateReport) : undefined;
    const error = lines.find((line) => line.text.startsWith('::error::'))?.text;
    return {
      startupMs: lines[0].atMs,
      wallMs,
      configuredLoadMs,
      lines,
      verdict: report?.verdict ?? 'no report',
      headline: report?.headline ?? error ?? 'no report and no error line',
      report,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What the pipeline does after the last burst, against 20 stored runs, timed once (cold, as in a run). */
export function timeStatisticsAndReport(report: GateReport): number {
  const bursts = report.bursts as BurstResult[];
  const started = performance.now();
  const stored: HistoryRun[] = Array.from(
    { length: 20 },
    (_, i) =>
      ({
        sha: `${i}`.padStart(40, '0'),
        ref: 'refs/heads/main',
        time: new Date().toISOString(),
        healthy: true,
        bursts: bursts.map(historyBurstOf),
        curve: report.curve?.candidate ?? [],
      }) as unknown as HistoryRun,
  );
  const figures = endpointFigures(reduceRun({ bursts, baseline: historySource(stored) }));
  const decision = decide({
    figures,
    gate: { maxMedianIncrease: 0.1, maxP95Increase: 0.15, maxErrorRate: 0.01, failOnRegression: true, failOnInconclusive: false },
  });
  const merged = mergeHistograms(bursts.map((burst) => burst.histogram));
  const curve = latencyCurve(merged);
  merged.destroy();
  const full: GateReport = {
    ...report,
    decision,
    verdict: decision.verdict,
    headline: decision.headline,
    figures: figures.candidate.run,
    curve: { ...report.curve!, candidate: curve },
  };
  renderCommentBody(full, { marker: commentMarker('bench') });
  renderSummary(full);
  JSON.stringify(full);
  return performance.now() - started;
}

/** A loopback sshd for the SSH figure, once the SSH modules and the test sshd exist. */
export async function startLoopbackSsh(): Promise<LoopbackSsh | string> {
  const missing = ['src/remote/ssh.ts', 'src/remote/swap.ts', 'test/support/sshd.ts'].filter((path) => !existsSync(join(ROOT, path)));
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  const { startSshd, targetInputs } = (await import('../test/support/sshd.ts')) as typeof import('../test/support/sshd.ts');
  const sshd = await startSshd();
  return {
    inputs: targetInputs(sshd),
    stop: () => sshd.stop(),
  };
}

export interface OverheadPlan {
  runs: number;
  load: { bursts: number; durationMs: number; warmupMs: number };
}

/** The SSH run's phases, from its log lines: connect, lock, swap, then until the load starts. */
function sshPhases(run: BundleTiming): { connect: number; lock: number; swap: number; watchStart: number } {
  const connected = lineAt(run, /^Connected to /);
  const locked = lineAt(run, /^Holding the lock /);
  const swapped = lineAt(run, /^swap: /);
  return {
    connect: connected - run.startupMs,
    lock: locked - connected,
    swap: swapped - locked,
    watchStart: lineAt(run, /^warming up /) - swapped,
  };
}

/** Wall time of warmup and bursts beyond what was configured (between-burst work, incl. the host watch). */
function loadBeyondConfigured(run: BundleTiming, load: OverheadPlan['load']): number {
  return run.wallMs - lineAt(run, /^warming up /) - load.warmupMs - load.bursts * load.durationMs;
}

/** The service the `service-match` runs watch: an idle node process named by a tag on its command line. */
const SERVICE_TAG = `loadgate-bench-service-${process.pid}`;

/** Figure 4. Goal: total overhead ≤ 2 s, bundle cold start ≤ 300 ms, the host speed probe ≤ 300 ms a run. */
export async function overhead(plan: OverheadPlan, log: (line: string) => void): Promise<Figure> {
  const base: Omit<Figure, 'status' | 'verdict' | 'table' | 'notes' | 'raw'> = {
    id: 4,
    title: 'Overhead of a bundle run',
    goal: 'wall time − configured load time ≤ 2 s; bundle cold start ≤ 300 ms; the host speed probe ≤ 300 ms a run',
  };
  try {
    buildBundle();
  } catch (error) {
    return {
      ...base,
      status: 'missed widely',
      verdict: `the bundle does not build: ${(error as Error).message}`,
      table: [],
      notes: [],
      raw: { error: (error as Error).message },
    };
  }
  const target = await startTarget({ delayMs: 1 });
  const ssh = await startLoopbackSsh();
  const service = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)', SERVICE_TAG], { stdio: 'ignore' });
  try {
    const plain: BundleTiming[] = [];
    const remote: BundleTiming[] = [];
    const remoteWithService: BundleTiming[] = [];
    const remoteWithoutProbe: BundleTiming[] = [];
    const statistics: number[] = [];
    const nodeOnly: number[] = [];
    for (let i = 0; i < plan.runs; i += 1) {
      nodeOnly.push(nodeStartupMs());
      const run = await timeBundleRun(target.url, plan.load);
      plain.push(run);
      if (!run.report) throw new Error(`the bundle run wrote no report: ${run.headline}`);
      statistics.push(timeStatisticsAndReport(run.report));
      log(
        `  bundle run ${i + 1}: start-up ${fmt(run.startupMs)} ms, wall ${fmt(run.wallMs)} ms for ${run.configuredLoadMs} ms of load (${run.verdict})`,
      );
      if (typeof ssh !== 'string') {
        const overSsh = await timeBundleRun(target.url, plan.load, ssh.inputs);
        remote.push(overSsh);
        log(`  bundle run ${i + 1} over SSH: wall ${fmt(overSsh.wallMs)} ms (${overSsh.verdict}: ${overSsh.headline})`);
        const withoutProbe = await timeBundleRun(target.url, plan.load, { ...ssh.inputs, 'host-speed-probe': 'off' });
        remoteWithoutProbe.push(withoutProbe);
        log(`  bundle run ${i + 1} over SSH, host-speed-probe off: wall ${fmt(withoutProbe.wallMs)} ms (${withoutProbe.verdict})`);
        const withService = await timeBundleRun(target.url, plan.load, { ...ssh.inputs, 'service-match': SERVICE_TAG });
        remoteWithService.push(withService);
        log(
          `  bundle run ${i + 1} over SSH with service-match: wall ${fmt(withService.wallMs)} ms (${withService.verdict}: ${withService.headline})`,
        );
      }
    }
    const over = (runs: BundleTiming[]) => spread(runs.map((r) => r.wallMs - r.configuredLoadMs));
    const startup = spread(plain.map((r) => r.startupMs));
    const stats = spread(statistics);
    const total = over(plain);
    const phases = remote.map(sshPhases);
    const totalSsh = remote.length ? over(remote) : undefined;
    const totalService = remoteWithService.length ? over(remoteWithService) : undefined;
    const totalWithoutProbe = remoteWithoutProbe.length ? over(remoteWithoutProbe) : undefined;
    const probeCost = totalSsh && totalWithoutProbe ? totalSsh.median - totalWithoutProbe.median : undefined;
    const row = (label: string, values: number[] | undefined, digits = 0) => [
      label,
      values ? fmtSpread(spread(values), digits) : `missing: ${ssh as string}`,
    ];
    const sshValues = (pick: (p: ReturnType<typeof sshPhases>) => number) => (remote.length ? phases.map(pick) : undefined);
    const rows = [
      ['part', 'ms min / **median** / max'],
      row('node itself (`node -e ""`), for scale', nodeOnly),
      row(
        'start-up: spawn → first log line (bundle load, inputs)',
        plain.map((r) => r.startupMs),
      ),
      row(
        'SSH connect, host key verified',
        sshValues((p) => p.connect),
      ),
      row(
        'lock on the target',
        sshValues((p) => p.lock),
      ),
      row(
        'swap check',
        sshValues((p) => p.swap),
      ),
      row(
        'swap check → first load (host watch start)',
        sshValues((p) => p.watchStart),
      ),
      row(
        'warmup + bursts beyond their configured time, report, exit — no host',
        plain.map((r) => loadBeyondConfigured(r, plan.load)),
      ),
      row('… the same with the host watched over SSH', remote.length ? remote.map((r) => loadBeyondConfigured(r, plan.load)) : undefined),
      row('of which statistics and report (decide vs 20 stored runs, curve, comment, summary; in-process)', statistics, 1),
      row(
        `**total, no host** (wall − ${plan.load.warmupMs + plan.load.bursts * plan.load.durationMs} ms of configured load)`,
        plain.map((r) => r.wallMs - r.configuredLoadMs),
      ),
      row(
        '**total, with SSH, lock, swap check and host watch** (and the host speed probe before each burst)',
        remote.length ? remote.map((r) => r.wallMs - r.configuredLoadMs) : undefined,
      ),
      row(
        '**total, the same with `host-speed-probe: off`**',
        remoteWithoutProbe.length ? remoteWithoutProbe.map((r) => r.wallMs - r.configuredLoadMs) : undefined,
      ),
      row(
        '**total, the same with `service-match`** (the service found before load, its memory sampled every second)',
        remoteWithService.length ? remoteWithService.map((r) => r.wallMs - r.configuredLoadMs) : undefined,
      ),
    ];
    const judged = totalService && totalSsh && totalService.median > totalSsh.median ? totalService : (totalSsh ?? total);
    const sshVerdicts = [...new Set(remote.map((r) => (r.verdict === 'pass' ? 'pass' : `${r.verdict}: ${r.headline}`)))];
    return {
      ...base,
      status: worst([
        atMost(judged.median, 2000, 4000),
        atMost(startup.median, 300, 600),
        ...(probeCost === undefined ? ['missing' as const] : [atMost(probeCost, 300, 600)]),
        ...(totalSsh ? [] : ['missing' as const]),
      ]),
      verdict:
        `total ${fmt(totalSsh?.median ?? total.median)} ms ${totalSsh ? 'with SSH' : 'without SSH (SSH part missing)'}` +
        `${totalService ? `, ${fmt(totalService.median)} ms with \`service-match\` too` : ''} (${fmt(total.median)} ms without a host), ` +
        `${probeCost === undefined ? '' : `the host speed probe ${fmt(probeCost)} ms of it (goal ≤ 300 ms), `}` +
        `statistics and report ${fmt(stats.median, 1)} ms, cold start ${fmt(startup.median)} ms`,
      table: rows,
      notes: [
        `${plan.runs} runs each of \`node dist/index.js\` (${bundleNode() === process.execPath ? `node ${process.version}` : 'node 24'}) with ${plan.load.warmupMs} ms warmup and ${plan.load.bursts} × ${plan.load.durationMs} ms bursts on 10 connections against a 1 ms target on 127.0.0.1, \`baseline-store: none\`, \`comment: never\`; with and without \`host\` = a loopback OpenSSH sshd (test/support/sshd.ts), alternating. Phases are read from the time each log line arrived.`,
        'The SSH runs use `swap: off`, which reads /proc/meminfo and /proc/swaps exactly as `verify` does; this machine has no swap, which `verify` would rightly refuse before any load.',
        "The `service-match` runs watch an idle node process the benchmark starts: one more SSH command before the load, and each second's sample reads its PSS.",
        ...(sshVerdicts.length ? [`The SSH runs ended with ${sshVerdicts.join('; ')}.`] : []),
      ],
      raw: {
        plain: plain.map(({ report: _report, ...rest }) => rest),
        overSsh: remote.map(({ report: _report, ...rest }) => rest),
        overSshWithService: remoteWithService.map(({ report: _report, ...rest }) => rest),
        overSshWithoutProbe: remoteWithoutProbe.map(({ report: _report, ...rest }) => rest),
        statisticsMs: statistics,
        nodeOnlyMs: nodeOnly,
        ssh: typeof ssh === 'string' ? ssh : 'loopback sshd',
      },
    };
  } finally {
    service.kill('SIGKILL');
    await target.close();
    if (typeof ssh !== 'string') await ssh.stop();
  }
}
