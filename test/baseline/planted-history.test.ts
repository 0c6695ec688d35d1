// A pull request that commits the file store's document picks its own baseline. runGate in this
// process against a real service on 127.0.0.1, with the history in a real git checkout: impossible
// figures are refused before any load (an error, never "improved" or "no baseline yet"), and a
// document git tracks is warned of.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileStore } from '../../src/baseline/file-store.ts';
import {
  appendRun,
  emptyDocument,
  loadSignatureOf,
  serializeDocument,
  type HistoryBurst,
  type HistoryRun,
} from '../../src/baseline/history.ts';
import { parseInputs } from '../../src/config/parse.ts';
import { parseRunContext } from '../../src/config/run-context.ts';
import type { Settings } from '../../src/config/settings.ts';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { runGate } from '../../src/pipeline.ts';
import { captureLog } from '../support/capture-log.ts';

const pullRequest = parseRunContext({ GITHUB_EVENT_NAME: 'pull_request' }, { pull_request: { number: 7 } });

function settingsOf(path: string, url: string): Settings {
  const plan = parseInputs({
    url,
    duration: '1s',
    bursts: '2',
    warmup: '0s',
    connections: '2',
    'baseline-store': 'file',
    'baseline-path': path,
  });
  assert.ok(plan.kind === 'measure');
  return plan.settings;
}

/** Eight runs of the service's own settings whose every burst is `burst`. */
function planted(settings: Settings, burst: HistoryBurst): string {
  const runs = Array.from(
    { length: 8 },
    (_, i): HistoryRun => ({
      sha: `feed${i}`.padEnd(40, '0'),
      ref: 'refs/heads/main',
      time: `2026-01-0${i + 1}T00:00:00.000Z`,
      healthy: true,
      config: loadSignatureOf(settings.load),
      bursts: [burst, burst],
      curve: [burst.p50, burst.p50, burst.p95, burst.p95, burst.p99, burst.p99],
    }),
  );
  return serializeDocument(runs.reduce((doc, run) => appendRun(doc, settings.baseline.key, run), emptyDocument()));
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=pr', '-c', 'user.email=pr@example.com', ...args], { cwd, stdio: 'pipe', timeout: 30_000 });

describe('a planted history in the file store', { timeout: 120_000 }, () => {
  let service: DemoTarget;
  let dir: string;
  before(async () => {
    service = await startTarget({ delayMs: 20 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-planted-'));
  });
  after(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('committed by the pull request at p50 = p95 = 10^9 ms: an error naming the run and the field, no load sent, and a warning', async () => {
    const checkout = join(dir, 'checkout');
    await mkdir(join(checkout, '.loadgate'), { recursive: true });
    git(checkout, 'init', '-q');
    const path = join(checkout, '.loadgate', 'baseline.json');
    const settings = settingsOf(path, service.url);
    await writeFile(path, planted(settings, { p50: 1e9, p95: 1e9, p99: 1e9, requestsPerSec: 100, errorRate: 0, ok: 1000 }));
    git(checkout, 'add', '.loadgate/baseline.json');
    git(checkout, 'commit', '-q', '-m', 'pick my own baseline');
    const log = captureLog();
    const before = service.requests;

    const report = await runGate(settings, pullRequest, log);
    assert.equal(report.verdict, 'error', report.headline);
    assert.match(
      report.error ?? '',
      /^baseline file .*baseline\.json is not a loadgate baseline: histories\.loadgate\[0\]\.bursts\[0\]\.p50 is not a positive number up to 86,400,000 ms: it reads 1000000000, with ok 1000; in the run of commit feed00000000 stored at 2026-01-01T00:00:00\.000Z\./,
    );
    assert.equal(service.requests, before, 'refused before any load');
    assert.deepEqual(
      log.messages.filter((line) => line.startsWith('warning:')),
      [
        `warning: baseline file ${path} is tracked by git in this checkout: a pull request that edits it picks its own baseline, ` +
          'so this gate is only as trustworthy as the pull request. Keep the history outside the checkout ' +
          '(a directory of a self-hosted runner, or restored by actions/cache) or use `baseline-store: branch`.',
      ],
    );
  });

  it('a tracked document with plausible figures loads, and is warned of once per store', async () => {
    const checkout = join(dir, 'plausible');
    await mkdir(checkout, { recursive: true });
    git(checkout, 'init', '-q');
    const path = join(checkout, 'baseline.json');
    const settings = settingsOf(path, service.url);
    await writeFile(path, planted(settings, { p50: 500, p95: 900, p99: 990, requestsPerSec: 100, errorRate: 0, ok: 1000 }));
    git(checkout, 'add', 'baseline.json');
    git(checkout, 'commit', '-q', '-m', 'a slow baseline');
    const log = captureLog();
    const store = createFileStore(path, log);
    assert.equal((await store.read(settings.baseline.key)).length, 8);
    await store.read(settings.baseline.key);
    const warnings = log.messages.filter((line) => line.startsWith('warning:'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.ok(warnings[0]!.startsWith(`warning: baseline file ${path} is tracked by git in this checkout: `), warnings[0]);
  });

  it('with ok -1 or a p50 of 0: an error, not "no baseline yet"; an untracked file in a checkout is not warned of', async () => {
    const checkout = join(dir, 'ignored');
    await mkdir(join(checkout, '.loadgate'), { recursive: true });
    git(checkout, 'init', '-q');
    await writeFile(join(checkout, '.gitignore'), '.loadgate/\n');
    git(checkout, 'add', '.gitignore');
    git(checkout, 'commit', '-q', '-m', 'ignore the baseline');
    const path = join(checkout, '.loadgate', 'baseline.json');
    const settings = settingsOf(path, service.url);
    for (const [burst, problem] of [
      [
        { p50: 10, p95: 20, p99: 30, requestsPerSec: 100, errorRate: 0, ok: -1 },
        'ok is not a whole number from 0 to 86,400,000,000,000: it reads -1',
      ],
      [
        { p50: 0, p95: 0, p99: 0, requestsPerSec: 100, errorRate: 0, ok: 1000 },
        'p50 is not a positive number up to 86,400,000 ms: it reads 0',
      ],
    ] as const) {
      await writeFile(path, planted(settings, burst));
      const log = captureLog();
      const before = service.requests;
      const report = await runGate(settings, pullRequest, log);
      assert.equal(report.verdict, 'error', report.headline);
      assert.ok(report.error?.includes(`histories.loadgate[0].bursts[0].${problem}`), report.error);
      assert.equal(service.requests, before, 'refused before any load');
      assert.deepEqual(
        log.messages.filter((line) => line.startsWith('warning:')),
        [],
      );
    }
  });
});
