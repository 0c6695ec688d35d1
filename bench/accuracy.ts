// Figure 3: measured percentiles against the server's own clock, for known service times. Each
// tool run gets the truth of exactly the requests it sent (the target resets it per run).

import { atMost, fmt, worst, type Figure, type GoalStatus } from './figure.ts';
import { runBareAutocannon, runEngine, type ToolRun } from './generators.ts';
import { startServiceTarget, type Truth } from './service-target.ts';
import { spread } from './stats.ts';
import { runWrk } from './wrk.ts';

export interface AccuracyPlan {
  durationMs: number;
  rounds: number;
}

interface ServiceCase {
  label: string;
  query: string;
  /** Busy-waiting serves one request at a time: one connection, or the queue would be measured. */
  connections: number;
  /** Allowed |p50 − truth|: in ms, or as a share of the truth; three times that is a wide miss. */
  tolerance: { ms: number } | { share: number };
}

const CASES: ServiceCase[] = [
  { label: '0.2 ms (busy-wait)', query: '?us=200', connections: 1, tolerance: { ms: 0.05 } },
  { label: '2 ms (busy-wait)', query: '?us=2000', connections: 1, tolerance: { share: 0.02 } },
  { label: '20 ms (timer)', query: '?timer-ms=20', connections: 10, tolerance: { share: 0.02 } },
];

interface Tool {
  name: string;
  run: (url: string, connections: number, durationMs: number) => Promise<ToolRun>;
}

/** The C client whose error on this machine, today, is the floor loadgate's is judged beside. */
const ANCHOR = 'wrk -t1';
const TOOLS: Tool[] = [
  { name: 'loadgate', run: (url, connections, durationMs) => runEngine({ url, connections, durationMs }) },
  { name: 'autocannon (own percentiles)', run: (url, connections, durationMs) => runBareAutocannon({ url, connections, durationMs }) },
  { name: 'wrk -t1', run: (url, connections, durationMs) => runWrk({ url, threads: 1, connections, durationMs }) },
];

interface Measured {
  tool: string;
  run: ToolRun;
  truth: Truth;
}

const us = (ms: number) => `${ms >= 0 ? '+' : ''}${fmt(ms * 1000)} µs`;

export async function accuracy(plan: AccuracyPlan, log: (line: string) => void): Promise<Figure> {
  const target = await startServiceTarget();
  const results: { case: ServiceCase; runs: Measured[] }[] = [];
  try {
    for (const service of CASES) {
      const url = `${target.url}${service.query}`;
      const runs: Measured[] = [];
      // A discarded first pass per tool: JIT in this process, the target's first connections.
      if (results.length === 0) for (const tool of TOOLS) await tool.run(url, service.connections, 1000);
      for (let round = 0; round < plan.rounds; round += 1) {
        for (let k = 0; k < TOOLS.length; k += 1) {
          const tool = TOOLS[(round + k) % TOOLS.length];
          await target.takeTruth();
          const run = await tool.run(url, service.connections, plan.durationMs);
          const truth = await target.takeTruth();
          runs.push({ tool: tool.name, run, truth });
          log(`  ${service.label} ${tool.name}: p50 ${fmt(run.p50, 3)} ms, truth ${fmt(truth.p50, 3)} ms (${truth.count} requests)`);
        }
      }
      results.push({ case: service, runs });
    }
  } finally {
    await target.stop();
  }

  const table = [['service time', 'tool', 'p50 (median of runs)', 'p50 − truth (min / **median** / max)', 'p95', 'p95 − truth']];
  const statuses: GoalStatus[] = [];
  const verdicts: string[] = [];
  for (const { case: service, runs } of results) {
    for (const tool of TOOLS) {
      const mine = runs.filter((m) => m.tool === tool.name);
      const p50Error = spread(mine.map((m) => m.run.p50 - m.truth.p50));
      const p95 = mine.map((m) => m.run.p95 ?? m.run.p97_5!);
      const p95Error = spread(mine.map((m, i) => p95[i] - m.truth.p95));
      const p95Label = mine[0].run.p95 === undefined ? 'p97.5 ' : '';
      table.push([
        service.label,
        tool.name,
        `${fmt(spread(mine.map((m) => m.run.p50)).median, 3)} ms (truth ${fmt(spread(mine.map((m) => m.truth.p50)).median, 3)})`,
        `${us(p50Error.min)} / **${us(p50Error.median)}** / ${us(p50Error.max)}`,
        `${p95Label}${fmt(spread(p95).median, 3)} ms (truth ${fmt(spread(mine.map((m) => m.truth.p95)).median, 3)})`,
        `${p95Label}${us(p95Error.median)}`,
      ]);
      if (tool.name === 'loadgate') {
        const truth = spread(mine.map((m) => m.truth.p50)).median;
        const allowedMs = 'ms' in service.tolerance ? service.tolerance.ms : service.tolerance.share * truth;
        const allowed =
          'ms' in service.tolerance
            ? `${fmt(service.tolerance.ms * 1000)} µs`
            : `${fmt(service.tolerance.share * 100)} % = ${fmt(allowedMs * 1000)} µs`;
        // A wide miss is loadgate's own: past 3× the goal AND 3× the C anchor's error (wrk, measured
        // side by side). A slow loopback or a stealing hypervisor moves both: on 2026-12-02 wrk read
        // +107–119 µs at 2 ms where it had read +77, and loadgate +189–222 where it had read +93.
        const anchor = spread(runs.filter((m) => m.tool === ANCHOR).map((m) => m.run.p50 - m.truth.p50)).median;
        const status = atMost(Math.abs(p50Error.median), allowedMs, 3 * allowedMs);
        statuses.push(status === 'missed widely' && Math.abs(p50Error.median) <= 3 * Math.abs(anchor) ? 'missed' : status);
        verdicts.push(`${service.label}: p50 ${us(p50Error.median)} (goal ±${allowed}; ${ANCHOR} ${us(anchor)})`);
      }
    }
  }
  return {
    id: 3,
    title: 'Accuracy against known service times',
    goal: "loadgate's p50 within 2 % of the server's own median for ≥ 1 ms, within 50 µs at 0.2 ms",
    status: worst(statuses),
    verdict: verdicts.join('; '),
    table,
    notes: [
      `Truth: the target's own clock from its \`request\` event to \`response.end()\`, for exactly the requests of each run; the target runs in its own process. ${plan.durationMs / 1000} s per run, ${plan.rounds} interleaved rounds; 1 connection for busy-wait services, 10 for the timer.`,
      "The client's figure also holds the loopback round trip and HTTP parsing on both sides, which the server's clock cannot see: a small positive error is the floor for every tool.",
      'autocannon has no p95 (its p97.5 is shown) and counts whole milliseconds, rounded down.',
      `A miss is "wide" (what \`--quick\` fails on) only past 3× the goal and 3× ${ANCHOR}'s own error: a slow loopback today moves every tool.`,
    ],
    raw: results,
  };
}
