// Power of the real gate: runs the pipeline (runGate: file baseline store, autocannon bursts,
// verdict, confirmation, baseline update) many times against local services with run-to-run
// drift and injected slowdowns, and counts how often it flags a regression. The pure
// simulation of the verdict rule alone is bench/power-sim.ts.
//
//   npx tsx bench/power.ts            full benchmark, bounded by --budget-minutes (15)
//   npx tsx bench/power.ts --quick    CI variant (< 2 minutes); exits 1 when the gate is grossly wrong
//   npx tsx bench/power.ts --plan ab-bursts   A/B at 3% limits with 10 bursts (about 6 minutes)
//
// Options: --lanes N (gate runs in parallel, each with its own services and history),
// --budget-minutes M, --history N (stored runs recorded before measuring), --seed S, --out FILE.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RawInputs } from '../src/config/input-defaults.ts';
import { parseInputs } from '../src/config/parse.ts';
import type { RunContext } from '../src/config/run-context.ts';
import type { Settings } from '../src/config/settings.ts';
import { silentLog } from '../src/log.ts';
import { runGate } from '../src/pipeline.ts';
import type { GateReport } from '../src/report/gate-report.ts';
import { mulberry32, robustCentreAndSpread, median } from '../src/verdict/statistics.ts';
import {
  abBurstsPlan,
  behaviourFor,
  driftFrom,
  fullPlan,
  quickPlan,
  RUN_DRIFT,
  SERVICE,
  slowdownLabel,
  type Case,
  type Mode,
} from './power-cases.ts';
import { judgeGoals, loadSecondsPerRun, markdownTable, share, tally, type CaseTally, type RunRecord } from './power-tally.ts';
import { startTargetPair, type TargetPair } from './power-targets.ts';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    plan: { type: 'string' },
    lanes: { type: 'string' },
    'budget-minutes': { type: 'string' },
    history: { type: 'string' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(
    'usage: npx tsx bench/power.ts [--quick | --plan full|quick|ab-bursts] [--lanes N] [--budget-minutes M] [--history N] [--seed S] [--out FILE]',
  );
  process.exit(0);
}

const PLANS = { full: fullPlan, quick: quickPlan, 'ab-bursts': abBurstsPlan } as const;
const planName = (options.quick ? 'quick' : (options.plan ?? 'full')) as keyof typeof PLANS;
if (!(planName in PLANS)) throw new Error(`--plan: expected one of ${Object.keys(PLANS).join(', ')}, got ${planName}`);
const quick = planName === 'quick';
const lanes = Number(options.lanes ?? (quick ? 4 : 6));
const budgetMs = Number(options['budget-minutes'] ?? (quick ? 1.75 : 15)) * 60_000;
const historyRuns = Number(options.history ?? (quick ? 5 : 20));
const seed = Number(options.seed);
const outPath =
  options.out ?? fileURLToPath(new URL(`./results/${planName === 'full' ? 'power' : `power-${planName}`}.json`, import.meta.url));
/** No job starts later than this before the budget ends: an A/B run that confirms takes ~20 s. */
const LONGEST_RUN_MS = 25_000;

/**
 * Load inputs for every run. Bursts of 1 s: autocannon stops a burst only on its 1 s sampling
 * tick, so anything shorter is 1 s anyway. 20 connections give ~700 requests per burst, ~70 in
 * the tail that makes p95. No warmup: the services live in their own process and stay warm.
 */
const LOAD_INPUTS: RawInputs = {
  connections: '20',
  duration: '1s',
  warmup: '0',
  'baseline-store': 'file',
  'baseline-key': 'power',
  name: 'power',
};
const CONTEXT: RunContext = {
  eventName: 'push',
  ref: 'refs/heads/main',
  sha: 'power-bench',
  defaultBranch: 'main',
  apiUrl: 'http://127.0.0.1:9',
};

interface Lane {
  index: number;
  pair: TargetPair;
  historyPath: string;
  historyFigures: { p50: number[]; p95: number[] };
}

interface Job {
  case: Case;
  round: number;
  caseIndex: number;
}

function settingsFor(lane: Lane, mode: Mode, extra: RawInputs, record: boolean): Settings {
  const plan = parseInputs({
    ...LOAD_INPUTS,
    ...extra,
    url: lane.pair.candidateUrl,
    'baseline-url': mode === 'ab' ? lane.pair.baselineUrl : '',
    'baseline-path': lane.historyPath,
    'update-baseline': record ? 'true' : 'false',
  });
  if (plan.kind !== 'measure') throw new Error('the benchmark inputs parsed as a post-report run');
  return plan.settings;
}

const changeOf = (report: GateReport, metric: 'p50' | 'p95') => report.decision?.comparisons.find((row) => row.metric === metric)?.change;

const started = performance.now();
const elapsed = () => {
  const seconds = Math.round((performance.now() - started) / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
};
const progress = (message: string) => process.stderr.write(`[${elapsed()}] ${message}\n`);

async function gateRun(lane: Lane, mode: Mode, extra: RawInputs, record: boolean): Promise<{ report: GateReport; seconds: number }> {
  const begin = performance.now();
  const report = await runGate(settingsFor(lane, mode, extra, record), CONTEXT, silentLog);
  return { report, seconds: (performance.now() - begin) / 1000 };
}

async function buildHistory(lane: Lane): Promise<void> {
  const random = mulberry32(seed * 7919 + lane.index);
  for (let run = 0; run < historyRuns; run++) {
    const behaviour = behaviourFor(driftFrom(random));
    await lane.pair.set(behaviour, behaviour);
    const { report } = await gateRun(lane, 'stored', {}, true);
    if (!report.baseline.recorded) throw new Error(`lane ${lane.index}: history run ${run + 1} was not recorded: ${report.headline}`);
    const candidate = report.bursts.filter((burst) => burst.target === 'candidate');
    lane.historyFigures.p50.push(median(candidate.map((burst) => burst.p50)));
    lane.historyFigures.p95.push(median(candidate.map((burst) => burst.p95)));
  }
  progress(`lane ${lane.index}: history of ${historyRuns} runs recorded`);
}

async function measure(lane: Lane, job: Job): Promise<RunRecord> {
  const { profile, slowdown } = job.case;
  // The same job draws the same drift whichever lane runs it.
  const drift = driftFrom(mulberry32(seed * 104_729 + job.caseIndex * 1009 + job.round));
  const baseline = behaviourFor(drift);
  await lane.pair.set(baseline, behaviourFor(drift, slowdown));
  // Stored runs with no change record themselves, as pushes to main would: the history rolls on.
  const record = profile.mode === 'stored' && slowdown.size === 0;
  const { report, seconds } = await gateRun(lane, profile.mode, profile.inputs, record);
  return {
    profile: profile.name,
    mode: profile.mode,
    kind: slowdown.kind,
    size: slowdown.size,
    lane: lane.index,
    drift,
    verdict: report.verdict,
    confirmed: report.decision?.confirmed ?? false,
    p50Change: changeOf(report, 'p50'),
    p95Change: changeOf(report, 'p95'),
    seconds,
    error: report.error ?? (report.verdict === 'error' ? report.headline : undefined),
  };
}

function jobsOf(cases: Case[]): Job[] {
  const jobs: Job[] = [];
  const rounds = Math.max(...cases.map((c) => c.runs));
  // Round-robin: a budget that runs out trims every case alike, and host load hits all cases.
  for (let round = 0; round < rounds; round++) {
    cases.forEach((c, caseIndex) => {
      if (round < c.runs) jobs.push({ case: c, round, caseIndex });
    });
  }
  return jobs;
}

const signedPercent = (fraction: number | undefined) =>
  fraction === undefined ? '–' : `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}%`;

async function runLane(
  lane: Lane,
  queue: Job[],
  records: RunRecord[],
  total: number,
  deadline: number,
  needsHistory: boolean,
): Promise<void> {
  if (needsHistory) await buildHistory(lane);
  while (performance.now() < deadline) {
    const job = queue.shift();
    if (!job) break;
    const record = await measure(lane, job);
    records.push(record);
    const label = `${job.case.profile.name} | ${slowdownLabel(job.case.slowdown)}`;
    const verdict = `${record.verdict}${record.confirmed ? ' (confirmed)' : ''}`;
    progress(
      `${records.length}/${total} ${label} | lane ${lane.index} | ${verdict} | p50 ${signedPercent(record.p50Change)} p95 ${signedPercent(record.p95Change)} | ${record.seconds.toFixed(0)} s` +
        (record.error ? ` | ${record.error}` : ''),
    );
  }
}

function spreadPercent(figures: number[]): number {
  return (Math.exp(robustCentreAndSpread(figures.map(Math.log)).spread) - 1) * 100;
}

/**
 * What makes the run grossly wrong: a gate that cries wolf, misses +50%, or does not run. One
 * false alarm or one miss in a handful of runs is chance on a shared machine, not a broken gate.
 */
function grossProblems(tallies: CaseTally[]): string[] {
  const problems: string[] = [];
  for (const t of tallies) {
    if (t.runs === 0) continue;
    if (t.size === 0 && t.regression >= 2 && t.regression / t.runs > 0.1)
      problems.push(`${t.profile}: false alarms ${share(t.regression, t.runs)} at 0% (limit 10%)`);
    if (t.size >= 0.5 && t.regression / t.runs < 0.75)
      problems.push(`${t.profile}: ${t.label} detected only ${share(t.regression, t.runs)} (needs 75%)`);
    if (t.error / t.runs > 0.1) problems.push(`${t.profile}, ${t.label}: ${share(t.error, t.runs)} runs ended in error`);
  }
  return problems;
}

async function main(): Promise<number> {
  const cases = PLANS[planName]();
  const queue = jobsOf(cases);
  const planned = queue.length;
  const needsHistory = cases.some((c) => c.profile.mode === 'stored');
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(2))),
  };
  progress(
    `power benchmark (${planName}): ${planned} gate runs in ${cases.length} cases on ${lanes} lanes, budget ${(budgetMs / 60_000).toFixed(1)} min`,
  );
  progress(`machine: ${machine.cores} × ${machine.cpu}, load average ${machine.loadAverageAtStart.join(' ')}`);

  const workdir = await mkdtemp(join(tmpdir(), 'loadgate-power-'));
  const pairs: TargetPair[] = [];
  const records: RunRecord[] = [];
  let laneList: Lane[] = [];
  try {
    for (let index = 0; index < lanes; index++) pairs.push(await startTargetPair());
    laneList = pairs.map((pair, index) => ({
      index,
      pair,
      historyPath: join(workdir, `lane-${index}.json`),
      historyFigures: { p50: [], p95: [] },
    }));
    const deadline = started + budgetMs - LONGEST_RUN_MS;
    await Promise.all(laneList.map((lane) => runLane(lane, queue, records, planned, deadline, needsHistory)));
  } finally {
    await Promise.all(pairs.map((pair) => pair.stop()));
    await rm(workdir, { recursive: true, force: true });
  }

  const tallies = tally(cases, records);
  const goals = judgeGoals(tallies);
  const wallSeconds = Math.round((performance.now() - started) / 1000);
  const loadAverageAtEnd = loadavg().map((value) => Number(value.toFixed(2)));
  const defaults = parseInputs({ url: 'http://127.0.0.1/' });
  if (defaults.kind !== 'measure') throw new Error('default inputs parsed as a post-report run');
  const productionLoad = {
    stored: {
      first: loadSecondsPerRun(defaults.settings.load, 'stored', false),
      confirmed: loadSecondsPerRun(defaults.settings.load, 'stored', true),
    },
    ab: { first: loadSecondsPerRun(defaults.settings.load, 'ab', false), confirmed: loadSecondsPerRun(defaults.settings.load, 'ab', true) },
  };
  const historySpread = laneList
    .filter((lane) => lane.historyFigures.p50.length > 0)
    .map((lane) => ({
      lane: lane.index,
      p50SpreadPercent: spreadPercent(lane.historyFigures.p50),
      p95SpreadPercent: spreadPercent(lane.historyFigures.p95),
    }));

  console.log(`\n## Power: ${planName} run, ${records.length} gate runs in ${wallSeconds} s on ${lanes} lanes`);
  console.log(
    `Service: ${SERVICE.delayMs}–${SERVICE.delayMs + SERVICE.jitterMs} ms, ${SERVICE.tailShare * 100}% tail +${SERVICE.tailDelayMs} ms; ` +
      `run drift uniform ±${RUN_DRIFT * 100}%; bursts ${LOAD_INPUTS.duration} × ${LOAD_INPUTS.connections} connections, 5 per target unless the settings say more, warmup ${LOAD_INPUTS.warmup}` +
      (needsHistory ? `; history ${historyRuns} runs per lane, rolling (0% stored runs record themselves).` : '.'),
  );
  if (historySpread.length) {
    console.log(
      `History spread (1.4826·MAD of ln run figure, as the rule sees it): ` +
        historySpread.map((h) => `lane ${h.lane} p50 ${h.p50SpreadPercent.toFixed(1)}% p95 ${h.p95SpreadPercent.toFixed(1)}%`).join('; '),
    );
  }
  console.log(
    `Machine: ${machine.cores} × ${machine.cpu}, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(' ')} at start, ${loadAverageAtEnd.join(' ')} at end.\n`,
  );
  console.log(markdownTable(tallies));
  if (goals.length) {
    console.log('\n| goal | settings | detection | false alarms at 0% | status |\n|---|---|---|---|---|');
    for (const goal of goals) {
      console.log(
        `| ${goal.goal} | ${goal.profile} | ${goal.detection} | ${goal.falseAlarms} | ${goal.met ? 'MET' : 'NOT MET'}${goal.note ? ` (${goal.note})` : ''} |`,
      );
    }
  }
  console.log(
    `\nLoad per run at the default settings (10 s bursts, 5 s warmup, 5 bursts): stored ${productionLoad.stored.first} s ` +
      `(${productionLoad.stored.confirmed} s when it confirms), A/B ${productionLoad.ab.first} s (${productionLoad.ab.confirmed} s when it confirms); the goal is ≤ 180 s.`,
  );
  const skipped = queue.length;
  if (skipped > 0)
    console.log(
      `The ${(budgetMs / 60_000).toFixed(1)}-minute budget ran out: ${skipped} planned runs were not made (counts above are what ran).`,
    );

  const problems = grossProblems(tallies);
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(
    outPath,
    `${JSON.stringify(
      {
        variant: planName,
        command: `npx tsx bench/power.ts${planName === 'full' ? '' : ` --plan ${planName}`}`,
        measuredAt: new Date().toISOString(),
        wallSeconds,
        lanes,
        seed,
        machine: { ...machine, loadAverageAtEnd },
        model: { service: SERVICE, runDrift: RUN_DRIFT, load: LOAD_INPUTS, historyRuns },
        productionLoadSecondsPerRun: productionLoad,
        historySpread,
        cases: tallies,
        goals,
        grossProblems: problems,
        runs: records,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nResults: ${outPath}`);
  if (problems.length) {
    console.log(`\nGROSSLY WRONG:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
