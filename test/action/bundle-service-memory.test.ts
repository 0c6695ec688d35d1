// The service's memory gated end to end: the bundle, the loopback sshd, a real service process
// that grows on request and is also the load target, a file baseline recorded by an earlier run.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { startSshd, targetInputs, type Sshd } from '../support/sshd.ts';
import { runBundle, SHORT_RUN } from '../support/run-bundle.ts';

const PULL_REQUEST = {
  pull_request: { number: 7, head: { repo: { full_name: 'octo-org/shop' } }, base: { repo: { full_name: 'octo-org/shop' } } },
  repository: { default_branch: 'main', full_name: 'octo-org/shop' },
};
const TAG = `lg-bundle-service-${process.pid}`;

describe('the bundle gates the service memory over a real loopback sshd', { timeout: 300_000 }, () => {
  let sshd: Sshd;
  let service: ChildProcess;
  let port: number;
  let dir: string;
  let inputs: Record<string, string>;

  before(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(join(tmpdir(), 'loadgate-memory-'));
    const fixture = new URL('../watch/fixtures/growing-server.mjs', import.meta.url).pathname;
    service = spawn(process.execPath, [fixture, TAG], { stdio: ['ignore', 'pipe', 'inherit'] });
    port = await new Promise<number>((resolve) =>
      createInterface({ input: service.stdout! }).once('line', (line) => resolve(Number(line))),
    );
    await grow(60);
    inputs = {
      url: `http://127.0.0.1:${port}/`,
      ...SHORT_RUN,
      ...targetInputs(sshd),
      'service-match': TAG,
      // Paced: 4 closed-loop connections on a sub-ms loopback service kept the generator near the
      // 85 % CPU it is trusted to, and a "load generator saturated" run is not stored as a baseline.
      rate: '200',
      // The machine's own CPU steal (5–25 % at times here) would keep the recorded run out of the baseline.
      'max-cpu-steal': '100%',
      'min-memory-headroom': '1%',
      // The service is also the load target: its latency on a busy machine is not this test's subject.
      'max-median-increase': '1000%',
      'max-p95-increase': '1000%',
      'baseline-store': 'file',
      'baseline-path': join(dir, 'baseline.json'),
      comment: 'never',
    };
  });
  after(async () => {
    service?.kill('SIGKILL');
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function grow(mb: number): Promise<void> {
    await (await fetch(`http://127.0.0.1:${port}/grow?mb=${mb}`)).text();
  }

  it('records the peak with the baseline, then fails the run whose service grew by half', async () => {
    const recorded = await runBundle({ inputs: { ...inputs, 'update-baseline': 'true' }, eventName: 'push', event: {} });
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    assert.equal(
      (recorded.report as { baseline?: { recordNote?: string } } | undefined)?.baseline?.recordNote,
      'update-baseline is true',
      'recorded as a healthy baseline',
    );
    const peak = Number(recorded.outputs['service-memory-mb']);
    assert.ok(peak > 60 && peak < 250, `service-memory-mb ${peak}`);
    assert.ok(Number(recorded.outputs['memory-headroom']) > 1, `memory-headroom ${recorded.outputs['memory-headroom']}`);

    const steady = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(steady.outputs.verdict, 'pass', steady.stdout);
    assert.ok(Math.abs(Number(steady.outputs['memory-change'])) < 10, `memory-change ${steady.outputs['memory-change']}`);

    await grow(Math.ceil(peak * 0.5));
    const grown = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(grown.code, 1, grown.stdout + grown.stderr);
    assert.equal(grown.outputs.verdict, 'regression');
    assert.ok(Number(grown.outputs['memory-change']) > 45, `memory-change ${grown.outputs['memory-change']}`);
    assert.match(
      grown.stdout,
      new RegExp(`::error::.*${TAG} peaked at \\d+ MB, \\+\\d+ MB \\(\\+\\d+\\.\\d%25\\) over baseline`),
      'annotations escape %',
    );
    assert.match(grown.summary, /\| service memory \(peak\) +\| +\d+ MB \| +\d+ MB \|(?: +— +\|)? +\+\d+\.\d% \| +\+20% +\| ❌ regression/);
    assert.match(grown.summary, /\| host memory available \(min\) +\| +— +\| +\d+ MB of \d+ MB/);
    assert.match(grown.summary, /\*\*Service memory\*\* \(`lg-bundle-service-\d+`, measured as PSS/);
  });

  it('a service-match that matches nothing stops the run before any load reaches the url', async () => {
    const target: DemoTarget = await startTarget({ delayMs: 1 });
    try {
      const run = await runBundle({
        inputs: { ...inputs, url: target.url, 'service-match': 'gunicron', 'baseline-store': 'none' },
        eventName: 'pull_request',
        event: PULL_REQUEST,
      });
      assert.equal(run.code, 1);
      assert.equal(run.outputs.verdict, 'error');
      assert.match(run.stdout, /::error::.*service-match 'gunicron' matches no process on the host; processes that look like services: /);
      assert.equal(target.requests, 1, "only the check's request, sent before SSH: no load on a host where the service was not found");
    } finally {
      await target.close();
    }
  });
});
