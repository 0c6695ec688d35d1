// The host watch over the real SSH transport, against the loopback sshd on this machine: its real
// /proc and kernel.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../src/log.ts';
import { OUTPUT_TAIL_BYTES, type RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { TargetError } from '../../src/remote/target-error.ts';
import { renderHostUnderLoad } from '../../src/report/host-section.ts';
import { HostWatch } from '../../src/watch/host-watch.ts';
import { hostUnderLoad } from '../../src/watch/host-summary.ts';
import { captureLog } from '../support/capture-log.ts';
import { sshSettingsOf, startSshd, type Sshd } from '../support/sshd.ts';
import { NOT_JUDGED_STEAL } from './health-fixtures.ts';
import { GUNICORN_SIGKILL, reportsRealOomKill, reportsWorkerCrash, samplesRealProc } from './host-watch-scenarios.ts';

/** This test's own hanging command; `[.]` keeps the pattern from matching pgrep's command line. */
const HANG = `sleep 3600.${process.pid}`;

function hangsLeft(): string[] {
  try {
    return execFileSync('pgrep', ['-af', `sleep 3600[.]${process.pid}`], { encoding: 'utf8' })
      .trim()
      .split('\n');
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function noHangLeft(): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (hangsLeft().length > 0 && Date.now() < deadline) await sleep(50);
  assert.deepEqual(hangsLeft(), [], `a \`${HANG}\` still runs on the target`);
}

describe('host watch over SSH to the loopback sshd', { timeout: 180_000 }, () => {
  let sshd: Sshd | undefined;
  let host: RemoteHost | undefined;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loadgate-logs-'));
    sshd = await startSshd();
    host = await connectTarget(sshSettingsOf(sshd), silentLog);
  });

  // The sampler checks run before this: stopping sshd would end leftover sessions and hide them.
  after(async () => {
    await host?.close();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('samples the real /proc about once a second and leaves no sampler running', { timeout: 30_000 }, () => samplesRealProc(host!));
  test('reports a real OOM kill in a memory cgroup, with the process named', { timeout: 60_000 }, () => reportsRealOomKill(host!));
  test('reports a gunicorn SIGKILL line from the logs-command as a worker crash', { timeout: 30_000 }, () => reportsWorkerCrash(host!));

  test('a logs-command printing 50 MB: its tail is scanned and reported, the bytes dropped named, the runner small', {
    timeout: 60_000,
  }, async () => {
    const logFile = join(dir, 'access.log');
    writeFileSync(logFile, '[2024-05-01 14:00:00 +0000] [700] [INFO] Booting worker with pid: 812\n');
    const log = captureLog();
    const watch = await HostWatch.start(host!, { log, maxStealPercent: NOT_JUDGED_STEAL, logsCommand: `cat ${logFile}` });
    const burst = await watch.beginBurst();
    // The burst writes 50 MB of access log, then the worker dies.
    const accessLine = '127.0.0.1 - - [01/May/2024:14:02:10 +0000] "GET /api/products/ HTTP/1.1" 200 5120';
    execFileSync('sh', ['-c', `yes '${accessLine}' | head -n 640000 >> ${logFile}; echo '${GUNICORN_SIGKILL}' >> ${logFile}`]);
    const printed = statSync(logFile).size;
    assert.ok(printed > 50_000_000, `${printed} bytes`);

    const rss = { before: process.memoryUsage.rss(), peak: 0 };
    const sampleRss = () => {
      rss.peak = Math.max(rss.peak, process.memoryUsage.rss());
    };
    const sampler = setInterval(sampleRss, 10);
    const health = await burst.end({ index: 0, target: 'candidate', generatorCpu: 0.1 }).finally(() => clearInterval(sampler));
    sampleRss();

    assert.deepEqual(health.crashLines.quoted, [{ kind: 'worker killed (SIGKILL, perhaps out of memory)', line: GUNICORN_SIGKILL }]);
    const gap = health.gaps.find((text) => text.startsWith('logs-command printed'));
    const dropped = Number(/\((\d+) bytes\)/.exec(gap ?? '')?.[1]);
    // The kept tail is the last MiB less the access line it cut through.
    assert.ok(dropped >= printed - OUTPUT_TAIL_BYTES && dropped < printed - OUTPUT_TAIL_BYTES + accessLine.length + 1, gap);
    assert.equal(
      gap,
      `logs-command printed 49 MiB (${dropped} bytes) more than loadgate reads: only the last 1 MiB of its output and of its errors were scanned`,
    );
    const section = renderHostUnderLoad(hostUnderLoad({ bursts: [health], machine: watch.machine }));
    assert.ok(section.includes(GUNICORN_SIGKILL), section);
    assert.match(section, new RegExp(`Not observed: logs-command printed 49 MiB \\(${dropped} bytes\\)`));
    const riseMb = (rss.peak - rss.before) / 1e6;
    console.log(`50 MB of logs-command output: the runner's RSS rose ${riseMb.toFixed(1)} MB`);
    assert.ok(riseMb < 100, `RSS rose ${riseMb.toFixed(1)} MB`);
  });

  test('a logs-command that hangs is ended on the host within its limit, and named', { timeout: 60_000 }, async () => {
    const started = Date.now();
    const error = await HostWatch.start(host!, {
      log: silentLog,
      maxStealPercent: NOT_JUDGED_STEAL,
      logsCommand: HANG,
      logsCommandTimeLimitMs: 2_000,
    }).then(
      () => assert.fail('the watch should not start'),
      (caught: unknown) => caught,
    );
    const elapsedMs = Date.now() - started;
    assert.ok(error instanceof TargetError, String(error));
    assert.equal(
      error.message,
      `logs-command: \`${HANG}\` did not finish within 2 s on 127.0.0.1: loadgate ended it and the processes it started`,
    );
    assert.ok(elapsedMs < 2_000 + 5_000, `failed after ${elapsedMs} ms`);
    await noHangLeft();

    // Hanging only after a burst: that burst's report says so, the run goes on.
    const hangAfter = join(dir, 'hang');
    const watch = await HostWatch.start(host!, {
      log: silentLog,
      maxStealPercent: NOT_JUDGED_STEAL,
      logsCommand: `if [ -e ${hangAfter} ]; then ${HANG}; fi; echo ok`,
      logsCommandTimeLimitMs: 2_000,
    });
    const burst = await watch.beginBurst();
    writeFileSync(hangAfter, '');
    const health = await burst.end({ index: 0, target: 'candidate', generatorCpu: 0.1 });
    assert.ok(
      health.gaps.some((gap) =>
        gap.startsWith(`logs-command: \`if [ -e ${hangAfter} ]; then ${HANG}; fi; echo ok\` did not finish within 2 s`),
      ),
      health.gaps.join('\n'),
    );
    await noHangLeft();
  });
});
