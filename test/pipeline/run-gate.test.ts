// runGate in this process, end to end but for SSH: real load bursts against a real HTTP service on
// 127.0.0.1, a file baseline store in a temp dir, the report as the action publishes it.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  appendRun,
  emptyDocument,
  loadSignatureOf,
  parseDocument,
  serializeDocument,
  type HistoryRun,
} from '../../src/baseline/history.ts';
import type { RawInputs } from '../../src/config/input-defaults.ts';
import { parseInputs } from '../../src/config/parse.ts';
import { parseRunContext, type RunContext } from '../../src/config/run-context.ts';
import type { Settings } from '../../src/config/settings.ts';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { runGate } from '../../src/pipeline.ts';
import { captureLog } from '../support/capture-log.ts';

const BURSTS = 2;

function settingsOf(inputs: RawInputs): Settings {
  const plan = parseInputs({ duration: '1s', bursts: String(BURSTS), warmup: '0s', connections: '2', 'baseline-store': 'file', ...inputs });
  assert.ok(plan.kind === 'measure');
  return plan.settings;
}

const localRun: RunContext = parseRunContext({}, {});

/** A stored run far faster than the service: a run against it cannot pass. */
function fastRun(settings: Settings, i: number): HistoryRun {
  const burst = { p50: 0.2, p95: 0.3, p99: 0.4, requestsPerSec: 5000, errorRate: 0, ok: 5000 };
  return {
    sha: `fast${i}`,
    ref: 'refs/heads/main',
    time: `2026-01-0${i + 1}T00:00:00.000Z`,
    healthy: true,
    config: loadSignatureOf(settings.load),
    bursts: Array.from({ length: BURSTS }, () => burst),
    curve: [0.2, 0.25, 0.3, 0.3, 0.4, 0.5],
  };
}

describe('runGate in-process against a service on 127.0.0.1', { timeout: 120_000 }, () => {
  let service: DemoTarget;
  let dir: string;
  before(async () => {
    service = await startTarget({ delayMs: 20 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-run-gate-'));
  });
  after(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes a first run, records it in the file store, and compares the next run with it', async () => {
    const path = join(dir, 'pass.json');
    const settings = settingsOf({ url: service.url, 'baseline-path': path, 'update-baseline': 'true' });
    const log = captureLog();

    const first = await runGate(settings, localRun, log);
    assert.equal(first.verdict, 'pass', first.headline);
    assert.equal(first.error, undefined);
    assert.equal(first.decision?.mode, 'no-history');
    assert.equal(first.decision?.confirmed, false);
    assert.equal(first.bursts.length, BURSTS);
    assert.ok(first.figures && first.figures.p50 >= 20, `p50 ${first.figures?.p50} ms of a 20 ms service`);
    assert.deepEqual(first.baseline, {
      location: `file ${path}`,
      runs: 0,
      configDifferences: [],
      recorded: true,
      recordNote: 'update-baseline is true',
    });
    const stored = parseDocument(await readFile(path, 'utf8'), path).histories[settings.baseline.key];
    assert.equal(stored?.length, 1);
    assert.equal(stored[0].bursts.length, BURSTS);
    assert.equal(stored[0].healthy, true);

    const second = await runGate(settings, localRun, log);
    assert.equal(second.baseline.runs, 1, "the recorded run is the next run's baseline");
    assert.equal(second.decision?.mode, 'cold-start');
    assert.ok(second.curve?.baseline, 'the stored curve is charted');
    assert.ok(log.messages.includes(`info: baseline: 1 comparable of 1 stored runs (file ${path})`), log.messages.join('\n'));
  });

  it('confirms a regression with as many bursts again, and does not record it on a pull request', async () => {
    const path = join(dir, 'regression.json');
    const settings = settingsOf({ url: service.url, 'baseline-path': path });
    let document = emptyDocument();
    for (let i = 0; i < 5; i++) document = appendRun(document, settings.baseline.key, fastRun(settings, i));
    await writeFile(path, serializeDocument(document));
    const log = captureLog();

    const report = await runGate(settings, parseRunContext({ GITHUB_EVENT_NAME: 'pull_request' }, { pull_request: { number: 7 } }), log);
    assert.equal(report.verdict, 'regression', report.headline);
    assert.equal(report.decision?.mode, 'history');
    assert.equal(report.decision?.confirmed, true);
    assert.equal(report.bursts.length, 2 * BURSTS, 'the first bursts and the confirmation bursts');
    assert.deepEqual(
      report.bursts.map((burst) => burst.index),
      [0, 1, 2, 3],
    );
    assert.ok(report.decision?.notes.some((note) => note.startsWith(`Confirmed: the first ${BURSTS} bursts gave regression`)));
    assert.ok(
      log.messages.includes(
        `info: first verdict regression: confirming with ${BURSTS} more bursts, about 2 s in all (estimated from the burst duration)`,
      ),
      log.messages.join('\n'),
    );
    // Each confirmation burst says where the confirmation stands and how long it has left.
    const confirming = log.messages.filter((message) => message.startsWith('info: confirming: '));
    assert.equal(confirming.length, BURSTS, log.messages.join('\n'));
    for (const [i, line] of confirming.entries()) {
      assert.match(
        line,
        new RegExp(`^info: confirming: burst ${i + 1}/${BURSTS}, about ${BURSTS - i - 1} s left: p50 \\d+\\.\\d ms, p95 `),
      );
    }
    const groups = log.messages.filter((message) => /^(end)?group: /.test(message));
    assert.deepEqual(groups, [
      ...['connect and host checks', 'warmup', 'bursts', 'confirmation', 'verdict'].flatMap((name) => [
        `group: ${name}`,
        `endgroup: ${name}`,
      ]),
    ]);
    assert.equal(report.context.pullRequestNumber, 7);
    assert.equal(report.baseline.recorded, false);
    assert.equal(report.baseline.recordNote, 'only a push to the default branch records (update-baseline: auto)');
    assert.equal(parseDocument(await readFile(path, 'utf8'), path).histories[settings.baseline.key]?.length, 5, 'the store is unchanged');
  });
});
