// What a run's log says while it runs: one line per burst with its figures, in order, inside the
// run's phases, which open and close in order (an error included). runGate in this process against
// real HTTP services on 127.0.0.1.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RawInputs } from '../../src/config/input-defaults.ts';
import { parseInputs } from '../../src/config/parse.ts';
import { parseRunContext } from '../../src/config/run-context.ts';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { runGate } from '../../src/pipeline.ts';
import { milliseconds } from '../../src/verdict/wording.ts';
import { captureLog, type CapturedLog } from '../support/capture-log.ts';

const BURSTS = 3;

function settingsOf(inputs: RawInputs) {
  const plan = parseInputs({
    duration: '500ms',
    bursts: String(BURSTS),
    warmup: '500ms',
    connections: '2',
    'baseline-store': 'none',
    ...inputs,
  });
  assert.ok(plan.kind === 'measure');
  return plan.settings;
}

/** The phase markers, in the order they were written. */
const groupsOf = (log: CapturedLog) => log.messages.filter((message) => /^(end)?group: /.test(message));
const phases = (...names: string[]) => names.flatMap((name) => [`group: ${name}`, `endgroup: ${name}`]);

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('a run says where it stands', { timeout: 120_000 }, () => {
  let service: DemoTarget;
  let dir: string;
  before(async () => {
    service = await startTarget({ delayMs: 20 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-progress-'));
  });
  after(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs one line per burst, in order, with its figures, inside the bursts phase', async () => {
    const log = captureLog();
    const report = await runGate(settingsOf({ url: service.url }), parseRunContext({}, {}), log);
    assert.equal(report.verdict, 'pass', report.headline);

    assert.deepEqual(groupsOf(log), phases('connect and host checks', 'warmup', 'bursts', 'verdict'));
    const bursts = log.messages.slice(log.messages.indexOf('group: bursts'), log.messages.indexOf('endgroup: bursts'));
    assert.ok(
      bursts.includes('info: measuring 3 bursts of 500 ms, about 2 s in all (estimated from the burst duration)'),
      bursts.join('\n'),
    );
    const lines = bursts.filter((message) => message.startsWith('info: burst '));
    assert.equal(lines.length, BURSTS, log.messages.join('\n'));
    lines.forEach((line, i) => {
      const burst = report.bursts[i];
      const errors = burst.non2xx + burst.errors + burst.timeouts;
      const figures = `p50 ${milliseconds(burst.p50)}, p95 ${milliseconds(burst.p95)}, ${Math.round(burst.requestsPerSec)} req/s, ${errors} errors`;
      assert.ok(line.startsWith(`info: burst ${i + 1}/${BURSTS}: ${figures}, service p50 `), `${line}\nexpected ${figures}`);
      // Service time is the latency less the round trip: a 20 ms service on loopback.
      const service = Number(/service p50 (\d+\.\d) ms$/.exec(line)?.[1]);
      assert.ok(service >= 19 && service <= burst.p50, line);
    });
    // The live line's steps: before each burst, the bursts left including it.
    assert.deepEqual(
      bursts.filter((message) => message.startsWith('progress: ')),
      ['progress: burst 1/3 1500 ms', 'progress: burst 2/3 1000 ms', 'progress: burst 3/3 500 ms'],
    );
    assert.ok(log.messages.includes(`info: verdict pass: ${report.headline}`), log.messages.join('\n'));
  });

  it('shows a burst without a 2xx response as "—", never as 0 ms', async () => {
    // The check before any load gets its 2xx; every request after it fails.
    let answered = 0;
    const failing = createServer((_request, response) => {
      response.statusCode = answered++ === 0 ? 200 : 503;
      response.end('busy');
    });
    const url = await listen(failing);
    try {
      const log = captureLog();
      const report = await runGate(settingsOf({ url, warmup: '0s' }), parseRunContext({}, {}), log);
      const lines = log.messages.filter((message) => message.startsWith('info: burst '));
      assert.equal(lines.length, BURSTS, log.messages.join('\n'));
      lines.forEach((line, i) => {
        const burst = report.bursts[i];
        assert.equal(burst.ok, 0);
        assert.equal(
          line,
          `info: burst ${i + 1}/${BURSTS}: p50 —, p95 —, ${Math.round(burst.requestsPerSec)} req/s, ${burst.non2xx} errors`,
        );
      });
      // Every request failing fails the run: it is confirmed, and the confirmation's lines say it too.
      assert.deepEqual(groupsOf(log), phases('connect and host checks', 'warmup', 'bursts', 'confirmation', 'verdict'));
      const confirming = log.messages.filter((message) => message.startsWith('info: confirming: '));
      assert.equal(confirming.length, BURSTS, log.messages.join('\n'));
      for (const line of confirming) assert.match(line, /: p50 —, p95 —, \d+ req\/s, \d+ errors$/);
    } finally {
      failing.close();
    }
  });

  it('closes the phase an error ends, and opens no other', async () => {
    // A host whose SSH port refuses: the run ends in the connect phase.
    const closed = createServer();
    const url = await listen(closed);
    const port = new URL(url).port;
    await new Promise((resolve) => closed.close(resolve));
    const keyFile = join(dir, 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    const inputs = { url: service.url, host: '127.0.0.1', port, username: 'nobody', key: await readFile(keyFile, 'utf8'), swap: 'off' };
    const log = captureLog();
    const report = await runGate(settingsOf(inputs), parseRunContext({}, {}), log);
    assert.equal(report.verdict, 'error');
    assert.deepEqual(groupsOf(log), phases('connect and host checks'));
  });
});
