// The entry points in the typescript-action template's shape: src/main.ts exports run() and does
// nothing on import, src/index.ts (dist/index.js) calls it, and `load-processes` children run
// their own bundle (dist/load-worker.js), so no entry point has to ask whether it is a worker.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { runBundle, SHORT_RUN } from '../support/run-bundle.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const WORKER_BUNDLE = join(ROOT, 'dist/load-worker.js');
const PUSH = { ref: 'refs/heads/main', repository: { default_branch: 'main', full_name: 'octo-org/shop' } };

/** Pids of live processes running `script` (their command line names it). */
/** Processes started by this test (its descendants) that run `script`: other runs on the machine do not count. */
async function processesRunning(script: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const runsScript = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').includes(script);
      if (runsScript && (await descendsFromThisTest(Number(entry)))) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function descendsFromThisTest(pid: number): Promise<boolean> {
  for (let current = pid; current > 1; ) {
    const parent = Number(/^PPid:\s+(\d+)/m.exec(await readFile(`/proc/${current}/status`, 'utf8'))?.[1] ?? 0);
    if (parent === process.pid) return true;
    current = parent;
  }
  return false;
}

describe('entry points', { timeout: 120_000 }, () => {
  let target: DemoTarget;
  let dir: string;

  before(async () => {
    target = await startTarget({ delayMs: 5 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-entry-'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('importing src/main.ts exports run() and measures nothing', async () => {
    const outputFile = join(dir, 'import-output');
    await writeFile(outputFile, '');
    const requestsBefore = target.requests;
    const script = `const main = await import(${JSON.stringify(join(ROOT, 'src/main.ts'))}); console.log(typeof main.run);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, INPUT_URL: target.url, INPUT_WARMUP: '0', INPUT_DURATION: '1s', INPUT_BURSTS: '1', GITHUB_OUTPUT: outputFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), 'function', `stdout: ${stdout}`);
    assert.equal(target.requests, requestsBefore, 'importing the module sent no request');
    assert.equal(await readFile(outputFile, 'utf8'), '', 'importing the module set no output');
  });

  it('the action bundle with `load-processes: 2` forks dist/load-worker.js, not itself', async () => {
    const workers = new Set<number>();
    let bundles = 0;
    const watching = setInterval(() => {
      void processesRunning(WORKER_BUNDLE).then((pids) => {
        for (const pid of pids) workers.add(pid);
      });
      void processesRunning(join(ROOT, 'dist/index.js')).then((pids) => (bundles = Math.max(bundles, pids.length)));
    }, 50);
    const run = await runBundle({
      inputs: { ...SHORT_RUN, url: target.url, 'load-processes': '2', 'baseline-store': 'none', comment: 'never' },
      eventName: 'push',
      event: PUSH,
    }).finally(() => clearInterval(watching));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'pass');
    assert.equal((run.report?.settings as { loadProcesses: number } | undefined)?.loadProcesses, 2);
    // Two per burst: the warmup and three bursts make eight; the 50 ms poll may miss a short one.
    assert.ok(workers.size >= 2, `saw ${workers.size} dist/load-worker.js processes`);
    assert.equal(bundles, 1, 'only the action itself ran dist/index.js');
  });

  it('without GITHUB_STEP_SUMMARY the verdict stands: the summary is skipped with a debug line', async () => {
    const run = await runBundle({
      inputs: { ...SHORT_RUN, url: target.url, 'baseline-store': 'none', comment: 'never' },
      eventName: 'push',
      event: PUSH,
      env: { GITHUB_STEP_SUMMARY: '', RUNNER_DEBUG: '1' },
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'pass');
    assert.match(run.stdout, /::debug::GITHUB_STEP_SUMMARY is not set: no job summary written\./);
    assert.doesNotMatch(run.stdout, /::error::/);
  });
});
