// A target with known service times, in its own process so the generator never shares its core:
// `GET /?us=200` busy-waits 200 µs (timers are too coarse below a few ms), `GET /?timer-ms=20`
// answers after a 20 ms timer. The server's own clock (request event → response written) is the
// truth the generators are compared with: `GET /truth` returns its p50/p95 since the last call.
//
//   npx tsx bench/service-target.ts        (prints the port, serves until killed)

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { waitForHttp } from './net.ts';

export interface Truth {
  p50: number;
  p95: number;
  count: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0;
}

function serve(): void {
  let times: number[] = [];
  const server = createServer((request, response) => {
    const arrived = performance.now();
    const url = new URL(request.url ?? '/', 'http://target');
    request.resume();
    if (url.pathname === '/truth') {
      const sorted = times.sort((a, b) => a - b);
      times = [];
      response.end(JSON.stringify({ p50: percentile(sorted, 50), p95: percentile(sorted, 95), count: sorted.length } satisfies Truth));
      return;
    }
    const answer = () => {
      response.end('ok');
      if (times.length < 5_000_000) times.push(performance.now() - arrived);
    };
    const busyUs = Number(url.searchParams.get('us') ?? 0);
    const timerMs = Number(url.searchParams.get('timer-ms') ?? 0);
    if (timerMs > 0) {
      setTimeout(answer, timerMs);
      return;
    }
    while ((performance.now() - arrived) * 1000 < busyUs);
    answer();
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
}

export interface ServiceTarget {
  url: string;
  takeTruth(): Promise<Truth>;
  stop(): Promise<void>;
}

export async function startServiceTarget(): Promise<ServiceTarget> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the service target did not start within 30 s')), 30_000);
    child.stdout!.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(Number(chunk.toString().trim()));
    });
    child.once('exit', (code) => reject(new Error(`the service target exited with code ${code}`)));
  });
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(`${url}truth`, 10_000);
  return {
    url,
    takeTruth: async () => (await (await fetch(`${url}truth`)).json()) as Truth,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve();
