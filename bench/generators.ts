// The Node generators under test, as the bench drives them: loadgate's engine (the µs histogram
// hook, in this process or on child processes, with or without the RTT probe) and bare autocannon
// (no hook, its own percentiles).

import autocannon from 'autocannon';
import type { BurstSpec } from '../src/load/burst.ts';
import { runBurst, type BurstRequest } from '../src/load/engine.ts';
import { burstWithRtt } from '../src/load/series.ts';

/** What every tool's run reduces to. Latencies in ms; p95 absent where the tool has none. */
export interface ToolRun {
  requestsPerSec: number;
  p50: number;
  p95?: number;
  /** autocannon's nearest percentile to p95. */
  p97_5?: number;
  generatorCpu?: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationMs: number;
}

function specOf(options: LoadOptions): BurstSpec {
  return {
    url: options.url,
    method: 'GET',
    headers: {},
    connections: options.connections,
    pipelining: 1,
    timeoutMs: 10_000,
    durationMs: options.durationMs,
  };
}

/** `probeRtt`: the handshakes `network-rtt: auto` spreads over every burst, as the gate runs them. */
export async function runEngine(options: LoadOptions, processes = 1, probeRtt = false): Promise<ToolRun> {
  const request: BurstRequest = { spec: { ...specOf(options), loadProcesses: processes }, index: 0, target: 'candidate' };
  const burst = probeRtt ? await burstWithRtt(request) : await runBurst(request);
  if (probeRtt && !burst.rtt?.samples) throw new Error(`the RTT probe measured nothing against ${options.url}: ${burst.rtt?.failure}`);
  if (burst.errorRate > 0) throw new Error(`loadgate's engine saw errors (rate ${burst.errorRate}) against ${options.url}`);
  return { requestsPerSec: burst.requestsPerSec, p50: burst.p50, p95: burst.p95, generatorCpu: burst.generatorCpu };
}

/** autocannon as a user would call it: no `response` listener, timed like the engine. */
export async function runBareAutocannon(options: LoadOptions): Promise<ToolRun> {
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationMs / 1000,
    timeout: 10,
  }) as Promise<autocannon.Result> & autocannon.Instance;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await instance;
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`autocannon saw ${result.errors} errors and ${result.non2xx} non-2xx against ${options.url}`);
  return {
    requestsPerSec: (result['2xx'] * 1000) / wallMs,
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    generatorCpu: (cpu.user + cpu.system) / 1000 / wallMs,
  };
}
