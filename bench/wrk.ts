// wrk (the Debian package) as an anchor: its percentiles come from its own microsecond histogram,
// read through a Lua `done` hook because `--latency` prints no p95.

import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ToolRun } from './generators.ts';

const WRK = 'wrk';
const REPORT_SCRIPT = `
done = function(summary, latency, requests)
  io.write(string.format("LOADGATE-WRK %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`;

export function wrkVersion(): string {
  const result = spawnSync(WRK, ['--version'], { encoding: 'utf8' });
  return /wrk (\S+)/.exec(`${result.stdout}${result.stderr}`)?.[1] ?? 'unknown';
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationMs: number;
}

export async function runWrk(options: WrkOptions): Promise<ToolRun> {
  if (options.durationMs % 1000 !== 0) throw new Error(`wrk takes whole seconds (asked for ${options.durationMs} ms)`);
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-bench-wrk-'));
  try {
    const script = join(dir, 'report.lua');
    await writeFile(script, REPORT_SCRIPT);
    const args = [
      '-t',
      String(options.threads),
      '-c',
      String(options.connections),
      '-d',
      `${options.durationMs / 1000}s`,
      '-s',
      script,
      options.url,
    ];
    const { stdout } = await promisify(execFile)(WRK, args, { timeout: options.durationMs + 30_000 });
    const match = /LOADGATE-WRK (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(stdout);
    if (!match) throw new Error(`wrk printed no report:\n${stdout}`);
    const [requests, durationUs, p50Us, p95Us, errors] = match.slice(1).map(Number);
    if (errors > 0) throw new Error(`wrk saw ${errors} errors against ${options.url}`);
    return { requestsPerSec: (requests * 1_000_000) / durationUs, p50: p50Us / 1000, p95: p95Us / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
