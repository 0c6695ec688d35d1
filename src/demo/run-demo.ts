// `npm run demo`: the real loadgate pipeline, no cloud account. It starts a service on
// 127.0.0.1, records a baseline of it the way a push to main would, then slows the service by
// 30 % (the "pull request") and gates it: the second table shows the regression.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli.ts';
import { startTarget } from './target.ts';

const BASE_DELAY_MS = 20;
const SLOWDOWN = 1.3;
const BASELINE_RUNS = 3;

async function demo(): Promise<number> {
  const workdir = await mkdtemp(join(tmpdir(), 'loadgate-demo-'));
  const target = await startTarget({ delayMs: BASE_DELAY_MS, jitterMs: 2 });
  const flags = [
    '--url',
    target.url,
    '--connections',
    '10',
    '--duration',
    '2s',
    '--bursts',
    '5',
    '--warmup',
    '1s',
    '--baseline-store',
    'file',
    '--baseline-path',
    join(workdir, 'baseline.json'),
    '--name',
    'demo',
  ];
  try {
    console.log(`loadgate demo: a service on ${target.url} answering in ~${BASE_DELAY_MS} ms\n`);
    for (let run = 1; run <= BASELINE_RUNS; run += 1) {
      console.log(`── baseline run ${run}/${BASELINE_RUNS} (what a push to main records) ──`);
      await runCli([...flags, '--update-baseline', 'true', '--report-path', join(workdir, `baseline-${run}.json`)]);
    }
    target.behaviour = { delayMs: BASE_DELAY_MS * SLOWDOWN, jitterMs: 2 };
    console.log(`\n── pull request run: the service now answers in ~${BASE_DELAY_MS * SLOWDOWN} ms ──`);
    const exitCode = await runCli([...flags, '--update-baseline', 'false', '--report-path', join(workdir, 'pull-request.json')]);
    console.log(
      exitCode === 1
        ? '\nThe gate failed the slowed build (exit code 1): branch protection would block this merge.'
        : `\nUnexpected: the gate exited ${exitCode} on a 30 % slowdown.`,
    );
    return exitCode === 1 ? 0 : 1;
  } finally {
    await target.close();
    await rm(workdir, { recursive: true, force: true });
  }
}

process.exitCode = await demo();
