// Power of the real gate on a "remote host with credits" (issue 15, profile R): the drift between
// runs is made by what makes it in production, so the gate's probes can see it. The service runs
// in a network namespace behind the user-space delay line (../shared/tools/delayline.py: the TCP
// handshake and HTTP cross it), the host's sshd on the loopback; both sit in one CPU cgroup (v1,
// 10 ms period) whose quota is set per run, so the host speed probe sent over SSH is throttled as
// the service is. Per run: RTT uniform in 2–40 ms, CPU quota uniform in 60–100 % of a core, and an
// unexplained drift uniform in ±2 % of the service's median time (behaviourOf says how). runGate
// in-process, file store.
//
//   npx tsx bench/power-remote.ts            full: 20 history runs, 100 at 0 %, 20 at +10 %, 20 at +15 % tail
//   npx tsx bench/power-remote.ts --quick    CI variant (~2 minutes): exits 1 only when grossly wrong
//
//   npx tsx bench/power-remote.ts --rate 120 --connections 10 --duration 2s    paced fixed rate (open loop)
//
//   npx tsx bench/power-remote.ts --rate 120 --connections 10 --duration 2s --step -0.25    a history that moved (issue 24)
//
// Options: --history N, --zero N, --slow N (runs per slowdown case), --seed S, --out FILE,
// --step F (the service's times scaled by 1 + F from the middle of the recorded history on, as a
// merged speed-up does; the runs judged are at that new level),
// --rate R, --connections C and --duration D (the gate's inputs; default: the gate's defaults,
// closed loop, and 1 s bursts). At a rate, keep each connection's send interval (C ÷ R) above the
// slowest answer (the tail's 40 ms + 40 ms RTT) and C below 5 % of a burst's requests, or the
// first requests' handshakes move p95.
// Needs root (namespace, cgroup, sshd). Traffic goes only to 127.0.0.1 and the namespace's address.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseInputs } from '../src/config/parse.ts';
import type { RunContext } from '../src/config/run-context.ts';
import { silentLog } from '../src/log.ts';
import { runGate } from '../src/pipeline.ts';
import type { GateReport } from '../src/report/gate-report.ts';
import { median, mulberry32 } from '../src/verdict/statistics.ts';
import { upperBound } from './power-tally.ts';
import { removeCgroup } from '../test/support/cgroup.ts';
import { type RemoteHost, type ServiceBehaviour, startRemoteHost } from '../test/support/delay-line.ts';
import { type Sshd, startSshd, targetInputs } from '../test/support/sshd.ts';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    history: { type: 'string' },
    zero: { type: 'string' },
    slow: { type: 'string' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string' },
    connections: { type: 'string' },
    duration: { type: 'string', default: '1s' },
    out: { type: 'string' },
    step: { type: 'string', default: '0' },
  },
});
const quick = options.quick!;
const historyRuns = Number(options.history ?? (quick ? 8 : 20));
const zeroRuns = Number(options.zero ?? (quick ? 4 : 100));
const slowRuns = Number(options.slow ?? (quick ? 3 : 20));
const random = mulberry32(Number(options.seed));
const loadInputs = {
  ...(options.rate !== undefined && { rate: options.rate }),
  ...(options.connections !== undefined && { connections: options.connections }),
};
const step = Number(options.step);
const variant = `${options.rate === undefined ? '' : '-rate'}${step === 0 ? '' : '-step'}${quick ? '-quick' : ''}`;
const outPath = options.out ?? fileURLToPath(new URL(`./results/power-remote${variant}.json`, import.meta.url));

export const PROFILE_R = { rttMs: [2, 40], cpuShare: [0.6, 1], unexplained: 0.02 } as const;
/** A handler that computes 1 ms, then waits 19 ms on its database; 10 % of requests wait 20 ms more (p95 sits in that tail). */
const SERVICE = { cpuMs: 1, sleepMs: 19, tailShare: 0.1, tailMs: 20 };
const PERIOD_US = 10_000;
const CGROUP = `/sys/fs/cgroup/cpu/loadgate-power-remote-${process.pid}`;

type Slowdown = { kind: 'none' } | { kind: 'all' | 'tail'; size: number };
interface Case {
  label: string;
  slowdown: Slowdown;
  runs: number;
}
const CASES: Case[] = quick
  ? [
      { label: '0% (no change)', slowdown: { kind: 'none' }, runs: zeroRuns },
      { label: '+30% all requests', slowdown: { kind: 'all', size: 0.3 }, runs: slowRuns },
    ]
  : [
      { label: '0% (no change)', slowdown: { kind: 'none' }, runs: zeroRuns },
      { label: '+10% all requests (p50 and p95)', slowdown: { kind: 'all', size: 0.1 }, runs: slowRuns },
      { label: '+15% tail only (p95)', slowdown: { kind: 'tail', size: 0.15 }, runs: slowRuns },
    ];

interface RunConditions {
  rttMs: number;
  cpuShare: number;
  drift: number;
}

const uniform = ([low, high]: readonly number[]) => low! + (high! - low!) * random();
const conditions = (): RunConditions => ({
  rttMs: Number(uniform(PROFILE_R.rttMs).toFixed(1)),
  cpuShare: Number(uniform(PROFILE_R.cpuShare).toFixed(3)),
  drift: 1 + PROFILE_R.unexplained * (2 * random() - 1),
});

/**
 * The service's times for one run. Node sleeps in whole milliseconds (`setTimeout(19.4)` sleeps as
 * `setTimeout(19)`), so a drift scaling the 19 ms wait would move it in 5 % steps or not at all:
 * the drift is spun instead (a spin is timed to the microsecond), ±2 % of the median's 20 ms on
 * every request, and the slowdowns are whole milliseconds (+10 % of 20 ms is 2 ms more wait).
 */
function behaviourOf(drift: number, slowdown: Slowdown, level = 1): ServiceBehaviour {
  // --step scales the waits in whole milliseconds too.
  const sleepMs = Math.round(SERVICE.sleepMs * level);
  const tailMs = Math.round(SERVICE.tailMs * level);
  const median = SERVICE.cpuMs + sleepMs;
  const extraWait = slowdown.kind === 'all' ? Math.round(slowdown.size * median) : 0;
  const tailExtra = slowdown.kind === 'all' ? Math.round(slowdown.size * tailMs) : 0;
  const tailOnly = slowdown.kind === 'tail' ? Math.round(slowdown.size * (median + tailMs)) : 0;
  return {
    mode: 'mixed',
    cpuMs: SERVICE.cpuMs + (drift - 1) * (median + extraWait),
    sleepMs: sleepMs + extraWait,
    tailShare: SERVICE.tailShare,
    tailMs: tailMs + tailExtra + tailOnly,
  };
}

const CONTEXT: RunContext = {
  eventName: 'push',
  ref: 'refs/heads/main',
  sha: 'power-remote',
  defaultBranch: 'main',
  apiUrl: 'http://127.0.0.1:9',
};

interface RunRecord {
  case: string;
  conditions: RunConditions;
  verdict: string;
  headline: string;
  confirmed: boolean;
  basis?: string;
  adjusted: string[];
  /** The decision's note naming the history's last change point, if it found one. */
  historyChange?: string;
  p50Change?: number;
  p95Change?: number;
  minDetectableChange?: number;
  hostSpeedChange?: number;
  rttMs?: number;
  seconds: number;
}

const started = performance.now();
const progress = (message: string) => process.stderr.write(`[${Math.round((performance.now() - started) / 1000)} s] ${message}\n`);
const setQuota = (share: number | 'unlimited') =>
  writeFileSync(join(CGROUP, 'cpu.cfs_quota_us'), share === 'unlimited' ? '-1' : String(Math.round(share * PERIOD_US)));
const changeOf = (report: GateReport, metric: 'p50' | 'p95') => report.decision?.comparisons.find((row) => row.metric === metric)?.change;

async function gateRun(
  host: RemoteHost,
  sshd: Sshd,
  historyPath: string,
  run: RunConditions,
  slowdown: Slowdown,
  record: boolean,
  level = 1 + step,
) {
  await host.setRttMs(run.rttMs);
  setQuota(run.cpuShare);
  await host.setBehaviour(behaviourOf(run.drift, slowdown, level));
  const plan = parseInputs({
    url: host.url,
    ...targetInputs(sshd),
    duration: options.duration,
    warmup: '0',
    ...loadInputs,
    // This machine's hypervisor steals 5–25 % at times; the profile's own drift is the subject.
    'max-cpu-steal': '100%',
    'baseline-store': 'file',
    'baseline-path': historyPath,
    'baseline-key': 'power-remote',
    name: 'power-remote',
    'update-baseline': record ? 'true' : 'false',
  });
  if (plan.kind !== 'measure') throw new Error('the benchmark inputs parsed as a post-report run');
  const begin = performance.now();
  const report = await runGate(plan.settings, CONTEXT, silentLog);
  return { report, seconds: (performance.now() - begin) / 1000 };
}

const percent = (fraction: number | undefined) =>
  fraction === undefined ? '–' : `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}%`;
async function main(): Promise<number> {
  mkdirSync(CGROUP);
  writeFileSync(join(CGROUP, 'cpu.cfs_period_us'), String(PERIOD_US));
  setQuota('unlimited');
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-power-remote-'));
  let sshd: Sshd | undefined;
  let host: RemoteHost | undefined;
  const records: RunRecord[] = [];
  try {
    sshd = await startSshd({ cgroupProcs: join(CGROUP, 'cgroup.procs') });
    host = await startRemoteHost(`lgpr${process.pid % 10_000}`, '10.213.11', 8080, 20);
    writeFileSync(join(CGROUP, 'cgroup.procs'), String(host.servicePid));
    const historyPath = join(dir, 'baseline.json');
    for (let i = 0; i < historyRuns; i++) {
      // With --step, the older half of the history is at the level before the step.
      const level = i < Math.floor(historyRuns / 2) ? 1 : 1 + step;
      const { report } = await gateRun(host, sshd, historyPath, conditions(), { kind: 'none' }, true, level);
      if (!report.baseline.recorded) throw new Error(`history run ${i + 1} was not recorded: ${report.headline}`);
    }
    progress(`history of ${historyRuns} runs recorded`);
    // Round-robin over the cases, so the machine's load hits them alike.
    const jobs = Array.from({ length: Math.max(...CASES.map((c) => c.runs)) }, (_, round) => CASES.filter((c) => round < c.runs)).flat();
    for (const job of jobs) {
      const run = conditions();
      // Runs of unchanged code record themselves, as pushes to main would: the history rolls on.
      // With --step they do not, so every run is judged against the history with the step in it.
      const record = job.slowdown.kind === 'none' && step === 0;
      const { report, seconds } = await gateRun(host, sshd, historyPath, run, job.slowdown, record);
      records.push({
        case: job.label,
        conditions: run,
        verdict: report.verdict,
        headline: report.headline,
        confirmed: report.decision?.confirmed ?? false,
        basis: report.decision?.latencyBasis,
        adjusted: (report.decision?.notes ?? []).filter((note) => note.includes(' tracks the ')),
        historyChange: report.decision?.notes.find((note) => note.startsWith('The history changed')),
        p50Change: changeOf(report, 'p50'),
        p95Change: changeOf(report, 'p95'),
        minDetectableChange: report.decision?.minDetectableChange,
        hostSpeedChange: report.hostSpeed?.change,
        rttMs: report.network?.rttMs,
        seconds,
      });
      progress(
        `${records.length}/${jobs.length} ${job.label}: ${report.verdict} (RTT ${run.rttMs} ms, CPU ${(run.cpuShare * 100).toFixed(0)} %): ${report.headline}`,
      );
    }
  } finally {
    await host?.close();
    await sshd?.stop();
    if (existsSync(CGROUP)) setQuota('unlimited');
    await removeCgroup(CGROUP);
    await rm(dir, { recursive: true, force: true });
  }

  const rows = CASES.map((c) => {
    const runs = records.filter((r) => r.case === c.label);
    const count = (verdict: string) => runs.filter((r) => r.verdict === verdict).length;
    const flagged = count('regression');
    const figure = (pick: (r: RunRecord) => number | undefined) => {
      const values = runs.flatMap((r) => (pick(r) === undefined ? [] : [pick(r)!]));
      return values.length ? median(values) : undefined;
    };
    return {
      label: c.label,
      slowdown: c.slowdown,
      runs: runs.length,
      regression: flagged,
      inconclusive: count('inconclusive'),
      pass: count('pass'),
      error: count('error'),
      confirmed: runs.filter((r) => r.confirmed).length,
      adjusted: runs.filter((r) => r.adjusted.length > 0).length,
      historyChanged: runs.filter((r) => r.historyChange !== undefined).length,
      serviceTime: runs.filter((r) => r.basis === 'service-time').length,
      p50Change: figure((r) => r.p50Change),
      p95Change: figure((r) => r.p95Change),
      minDetectableChange: figure((r) => r.minDetectableChange),
      seconds: figure((r) => r.seconds),
      falseAlarmUpperBound: c.slowdown.kind === 'none' ? upperBound(flagged, runs.length) : undefined,
    };
  });
  const load = `${options.rate === undefined ? 'closed loop' : `rate ${options.rate} req/s paced`}${step === 0 ? '' : `, a ${percent(step)} step halfway through the history`}`;
  const connections = `${options.connections ?? 'default'} connections, ${options.duration} bursts`;
  console.log(
    `# Profile R on the real pipeline (${load}, ${connections}): ${historyRuns} history runs, then ${records.length} runs (seed ${options.seed})`,
  );
  console.log(
    `Machine: ${cpus().length} cores, load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')} at the end.\n`,
  );
  console.log(
    '| injected slowdown | runs | regression | inconclusive | pass | error | confirmed | history adjusted | history change found | judged on service time | median measured change p50 / p95 | median min-detectable-change | median s per run |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const flagged = `${row.regression}/${row.runs} = ${((100 * row.regression) / Math.max(row.runs, 1)).toFixed(1)}%`;
    const bound = row.falseAlarmUpperBound === undefined ? '' : ` (95% upper bound ${(row.falseAlarmUpperBound * 100).toFixed(1)}%)`;
    console.log(
      `| ${row.label} | ${row.runs} | ${flagged}${bound} | ${row.inconclusive} | ${row.pass} | ${row.error} | ${row.confirmed} | ${row.adjusted} | ${row.historyChanged} | ${row.serviceTime} | ` +
        `${percent(row.p50Change)} / ${percent(row.p95Change)} | ${percent(row.minDetectableChange)} | ${row.seconds?.toFixed(1) ?? '–'} |`,
    );
  }
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(
    outPath,
    `${JSON.stringify({ variant: quick ? 'quick' : 'full', load: { ...loadInputs, duration: options.duration }, profile: PROFILE_R, service: SERVICE, rows, records }, null, 2)}\n`,
  );

  const [quiet, slow] = rows;
  const problems: string[] = [];
  if (quick) {
    if (quiet!.regression > 1) problems.push(`false alarms ${quiet!.regression}/${quiet!.runs} at 0%`);
    if (slow!.regression < slow!.runs - 1) problems.push(`+30% detected only ${slow!.regression}/${slow!.runs}`);
    if (rows.some((row) => row.error > 0)) problems.push('runs ended in error');
  }
  for (const problem of problems) console.error(`grossly wrong: ${problem}`);
  return problems.length ? 1 : 0;
}

process.exitCode = await main();
