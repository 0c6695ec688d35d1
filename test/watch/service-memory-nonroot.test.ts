// As an ordinary user, another user's /proc/PID/smaps_rollup is not readable: the service's memory
// is its RSS, and the figures say so.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLog } from '../../src/log.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { HostWatch } from '../../src/watch/host-watch.ts';
import { NOT_JUDGED_STEAL } from './health-fixtures.ts';
import { sshSettingsOf, startSshd, type Sshd } from '../support/sshd.ts';

const USER = `lgmem${process.pid}`;
const TAG = `lg-root-service-${process.pid}`;

describe("service memory as a user who cannot read the service's smaps_rollup", { timeout: 120_000 }, () => {
  let sshd: Sshd | undefined;
  let host: RemoteHost | undefined;
  let service: ChildProcess | undefined;

  before(async () => {
    execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', USER]);
    execFileSync('usermod', ['-p', '*', USER]);
    sshd = await startSshd();
    host = await connectTarget(sshSettingsOf(sshd, { username: USER }), silentLog);
    const fixture = new URL('./fixtures/growing-server.mjs', import.meta.url).pathname;
    service = spawn(process.execPath, [fixture, TAG], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve) =>
      createInterface({ input: service!.stdout! }).once('line', (line) => resolve(Number(line))),
    );
    await (await fetch(`http://127.0.0.1:${port}/grow?mb=80`)).text();
  });

  after(async () => {
    service?.kill('SIGKILL');
    await host?.close().catch(() => undefined);
    await sshd?.stop();
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        execFileSync('userdel', [USER], { stdio: 'pipe' });
        return;
      } catch {
        await sleep(100);
      }
    }
  });

  test("root's process is measured by RSS", { timeout: 30_000 }, async () => {
    assert.equal(host!.isRoot, false);
    const watch = await HostWatch.start(host!, {
      log: silentLog,
      maxStealPercent: NOT_JUDGED_STEAL,
      services: { service: { kind: 'match', pattern: TAG } },
    });
    const burst = await watch.beginBurst();
    await sleep(1200);
    const health = await burst.end({ index: 0, target: 'candidate', generatorCpu: 0.1 });
    const figures = health.figures.service!;
    assert.equal(figures.source, 'rss');
    assert.equal(figures.processesAtPeak, 1);
    assert.ok(figures.peakKib > 80 * 1024, `RSS ${figures.peakKib} KiB`);
  });
});
