// Figures 1 and 2: requests per second against our own nginx, every tool in every round, the
// order rotated per round so drift on a shared machine hits all tools alike.

import { atLeast, fmt, fmtSpread, worst, type Figure } from './figure.ts';
import { runBareAutocannon, runEngine, type ToolRun } from './generators.ts';
import { SAMPLES_PER_BURST } from '../src/load/rtt-probe.ts';
import { spread } from './stats.ts';
import { runWrk } from './wrk.ts';

export interface ThroughputPlan {
  url: string;
  connections: number;
  durationMs: number;
  rounds: number;
}

interface Tool {
  name: string;
  run: (plan: ThroughputPlan) => Promise<ToolRun>;
}

const load = (plan: ThroughputPlan) => ({ url: plan.url, connections: plan.connections, durationMs: plan.durationMs });
const ENGINE: Tool = { name: 'loadgate engine (µs histogram hook)', run: (plan) => runEngine(load(plan)) };
const ENGINE_RTT: Tool = {
  name: 'loadgate engine with the RTT probe (`network-rtt: auto`)',
  run: (plan) => runEngine(load(plan), 1, true),
};
const ENGINE_2: Tool = { name: 'loadgate engine, `load-processes: 2`', run: (plan) => runEngine(load(plan), 2) };
const BARE: Tool = { name: 'bare autocannon (no hook)', run: (plan) => runBareAutocannon(load(plan)) };
const wrk = (threads: number): Tool => ({
  name: `wrk -t${threads}`,
  run: (plan) => runWrk({ url: plan.url, threads, connections: plan.connections, durationMs: plan.durationMs }),
});

async function interleave(tools: readonly Tool[], plan: ThroughputPlan, log: (line: string) => void): Promise<ToolRun[][]> {
  const runs: ToolRun[][] = tools.map(() => []);
  // One short discarded pass: JIT, nginx's first connections.
  for (const tool of tools) await tool.run({ ...plan, durationMs: 1000 });
  for (let round = 0; round < plan.rounds; round += 1) {
    for (let k = 0; k < tools.length; k += 1) {
      const i = (round + k) % tools.length;
      const run = await tools[i].run(plan);
      runs[i].push(run);
      log(`  round ${round + 1}/${plan.rounds} ${tools[i].name}: ${fmt(run.requestsPerSec)} req/s`);
    }
  }
  return runs;
}

function rows(tools: readonly Tool[], runs: ToolRun[][], ratios: Map<number, number[]>, ratioLabel: string): string[][] {
  return [
    ['generator', 'req/s min / **median** / max', `ratio to ${ratioLabel} (per round)`, 'generator CPU (median, busiest process)'],
    ...tools.map((tool, i) => {
      const cpu = runs[i].map((r) => r.generatorCpu).filter((c): c is number => c !== undefined);
      return [
        tool.name,
        fmtSpread(spread(runs[i].map((r) => r.requestsPerSec))),
        ratios.has(i) ? fmtSpread(spread(ratios.get(i)!), 2) : '',
        cpu.length ? `${fmt(spread(cpu).median * 100)} %` : '',
      ];
    }),
  ];
}

/**
 * Figure 1. Goals: the engine's hook costs at most 5 % of bare autocannon's throughput, and the RTT
 * probe's handshakes (issue 15) cost none that the rounds can tell from their own spread.
 */
export async function throughputCeiling(plan: ThroughputPlan, log: (line: string) => void): Promise<Figure> {
  const tools = [ENGINE, BARE, wrk(1), ENGINE_RTT];
  const runs = await interleave(tools, plan, log);
  const perRound = (i: number, against = 1) => runs[i].map((r, round) => r.requestsPerSec / runs[against][round].requestsPerSec);
  const ratio = spread(perRound(0));
  const probeCost = spread(perRound(3, 0));
  return {
    id: 1,
    title: 'Throughput ceiling against nginx',
    goal: 'engine ≥ 0.95 × bare autocannon; with the RTT probe ≥ 0.95 × without (medians of per-round ratios)',
    status: worst([atLeast(ratio.median, 0.95, 0.85), atLeast(probeCost.median, 0.95, 0.85)]),
    verdict:
      `engine / bare autocannon = ${fmt(ratio.median, 3)} (min ${fmt(ratio.min, 3)}, max ${fmt(ratio.max, 3)}); ` +
      `with the RTT probe / without = ${fmt(probeCost.median, 3)} (min ${fmt(probeCost.min, 3)}, max ${fmt(probeCost.max, 3)})`,
    table: rows(tools, runs, new Map(tools.map((_, i) => [i, perRound(i)])), 'bare autocannon'),
    notes: [
      `${plan.connections} connections, ${plan.durationMs / 1000} s per run, ${plan.rounds} interleaved rounds; nginx: 1 worker, 17-byte static file, access_log off.`,
      `The RTT probe is ${SAMPLES_PER_BURST} TCP handshakes spread over each burst to the same host:port (load/rtt-probe.ts), from the load process.`,
    ],
    raw: { plan, tools: tools.map((tool, i) => ({ name: tool.name, runs: runs[i] })) },
  };
}

/** Figure 2. Goal: two load processes reach 0.7 × the better of wrk -t1 and wrk -t2. */
export async function beyondOneCore(plan: ThroughputPlan, log: (line: string) => void): Promise<Figure> {
  const tools = [ENGINE_2, ENGINE, wrk(1), wrk(2)];
  const runs = await interleave(tools, plan, log);
  const bestWrk = runs[2].map((r, round) => Math.max(r.requestsPerSec, runs[3][round].requestsPerSec));
  const perRound = (i: number) => runs[i].map((r, round) => r.requestsPerSec / bestWrk[round]);
  const ratio = spread(perRound(0));
  return {
    id: 2,
    title: 'Beyond one core: `load-processes: 2`',
    goal: '`load-processes: 2` ≥ 0.7 × the better of wrk -t1 and wrk -t2 (median of per-round ratios)',
    // On 2 cores nginx's worker holds one core and both generators share the other: the goal is
    // out of reach here (0.54 measured on a quiet machine). Below 0.4 the processes are broken.
    status: atLeast(ratio.median, 0.7, 0.4),
    verdict: `2 processes / best wrk = ${fmt(ratio.median, 3)} (min ${fmt(ratio.min, 3)}, max ${fmt(ratio.max, 3)})`,
    table: rows(tools, runs, new Map(tools.map((_, i) => [i, perRound(i)])), 'the better wrk'),
    notes: [
      `${plan.connections} connections, ${plan.durationMs / 1000} s per run, ${plan.rounds} interleaved rounds, same nginx as figure 1. On 2 cores nginx's one worker takes a core too.`,
    ],
    raw: { plan, tools: tools.map((tool, i) => ({ name: tool.name, runs: runs[i] })) },
  };
}
