// The service's own memory over the real SSH transport (loopback sshd): a real process that grows
// on request, found by service-match, sampled every burst, gated against its own history.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../src/log.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { TargetError } from '../../src/remote/target-error.ts';
import type { Decision } from '../../src/verdict/decision.ts';
import { applyMemoryRules } from '../../src/verdict/memory-rules.ts';
import { HostWatch } from '../../src/watch/host-watch.ts';
import { NOT_JUDGED_STEAL } from './health-fixtures.ts';
import { SAMPLER_MARKER } from '../../src/watch/sample-line.ts';
import { startSampler } from '../../src/watch/sampler.ts';
import { runServiceMemory } from '../../src/watch/service-memory.ts';
import { sshSettingsOf, startSshd, type Sshd } from '../support/sshd.ts';

const TAG = `lg-growing-service-${process.pid}`;
// Also matches every process of loadgate's own sampler (its shell, its SSH wrapper): they must not count.
const PATTERN = `${TAG}|${SAMPLER_MARKER}`;

interface GrowingService {
  pid: number;
  grow(mb: number): Promise<void>;
}

async function startGrowingService(): Promise<{ service: GrowingService; child: ChildProcess }> {
  const fixture = new URL('./fixtures/growing-server.mjs', import.meta.url).pathname;
  const child = spawn(process.execPath, [fixture, TAG], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(line)));
    child.once('exit', (code) => reject(new Error(`the service exited (${code}) before listening`)));
  });
  const grow = async (mb: number) => {
    await (await fetch(`http://127.0.0.1:${port}/grow?mb=${mb}`)).text();
  };
  return { service: { pid: child.pid!, grow }, child };
}

const PASS: Decision = {
  verdict: 'pass',
  mode: 'history',
  headline: 'p50 +0.0%, p95 +0.0% vs baseline (5 runs)',
  comparisons: [],
  warnings: [],
  notes: [],
  confirmed: false,
  crashed: false,
};

describe('service memory over SSH to the loopback sshd', { timeout: 120_000 }, () => {
  let sshd: Sshd | undefined;
  let host: RemoteHost | undefined;
  let child: ChildProcess | undefined;
  let service: GrowingService;

  before(async () => {
    sshd = await startSshd();
    host = await connectTarget(sshSettingsOf(sshd), silentLog);
    ({ service, child } = await startGrowingService());
    await service.grow(80);
  });

  after(async () => {
    child?.kill('SIGKILL');
    await host?.close();
    await sshd?.stop();
  });

  test('measures the matched process each burst; grown by half, the run is a memory regression', { timeout: 60_000 }, async () => {
    const watch = await HostWatch.start(host!, {
      log: silentLog,
      maxStealPercent: NOT_JUDGED_STEAL,
      services: { service: { kind: 'match', pattern: PATTERN } },
    });
    const burst = async (index: number) => {
      const running = await watch.beginBurst();
      await sleep(1200);
      return running.end({ index, target: 'candidate', generatorCpu: 0.1 });
    };
    const history = [];
    for (let index = 0; index < 5; index += 1) {
      const health = await burst(index);
      const figures = health.figures.service!;
      assert.ok(figures, 'the service was sampled');
      assert.equal(figures.label, PATTERN);
      assert.equal(figures.processesAtPeak, 1, 'only the service, not the sampler whose script names it');
      assert.equal(figures.largestProcessPid, service.pid);
      // Root reads every smaps_rollup: PSS. The 80 MB it holds are resident.
      assert.equal(figures.source, 'pss');
      assert.ok(figures.peakKib > 80 * 1024 && figures.peakKib < 250 * 1024, `peak ${figures.peakKib} KiB`);
      history.push({ healthy: true, serviceMemory: runServiceMemory([figures]) });
    }
    // Its command line as the sampler read it, shortened to the program: `node -e …` is `node`.
    assert.deepEqual(
      history.at(-1)!.serviceMemory!.perProcess?.map(({ command, worker }) => ({ command, worker })),
      [{ command: 'node', worker: false }],
    );
    const before = history.at(-1)!.serviceMemory!.peakKib;
    await service.grow(Math.ceil((before * 0.5) / 1024));
    const grown = await burst(5);
    assert.ok(grown.figures.service!.peakKib > before * 1.45, `${grown.figures.service!.peakKib} after ${before}`);

    const decision = applyMemoryRules(PASS, {
      limits: { maxMemoryIncrease: 0.2, minMemoryHeadroom: 0.01 },
      hostBursts: [grown],
      history,
      live: false,
    });
    assert.equal(decision.verdict, 'regression', decision.headline);
    assert.match(
      decision.headline,
      new RegExp(
        `^${TAG}\\|${SAMPLER_MARKER} peaked at \\d+ MB, \\+\\d+ MB \\(\\+(4[5-9]|5\\d)\\.\\d%\\) over baseline; by process: node \\+\\d+ MB$`,
      ),
    );
    assert.equal(decision.comparisons.find((row) => row.metric === 'memoryHeadroom')?.status, 'ok');
  });

  test('a service-match that matches nothing is an error before any burst, naming what does run', { timeout: 30_000 }, async () => {
    await assert.rejects(
      HostWatch.start(host!, {
        log: silentLog,
        maxStealPercent: NOT_JUDGED_STEAL,
        services: { service: { kind: 'match', pattern: 'gunicron-not-running' } },
      }),
      (error: unknown) => {
        assert.ok(error instanceof TargetError);
        assert.equal(error.code, 'invalid-setting');
        assert.match(
          error.message,
          /^service-match 'gunicron-not-running' matches no process on the host; processes that look like services: \S+ \(\d+ process/,
        );
        return true;
      },
    );
  });

  test("a pattern that matches only loadgate's own sampler matches nothing", { timeout: 30_000 }, async () => {
    await assert.rejects(
      HostWatch.start(host!, {
        log: silentLog,
        maxStealPercent: NOT_JUDGED_STEAL,
        services: { service: { kind: 'match', pattern: SAMPLER_MARKER } },
      }),
      /service-match 'loadgate-host-sampler' matches no process on the host/,
    );
  });

  test('a pattern pgrep refuses is named as such', { timeout: 30_000 }, async () => {
    await assert.rejects(
      HostWatch.start(host!, {
        log: silentLog,
        maxStealPercent: NOT_JUDGED_STEAL,
        services: { service: { kind: 'match', pattern: 'a{2,1}' } },
      }),
      /service-match 'a\{2,1\}' is not a regular expression pgrep accepts on the host/,
    );
  });

  test("a unit's cgroup (v1 memory controller): its usage and its processes, read by the sampler", { timeout: 30_000 }, async () => {
    const directory = `/sys/fs/cgroup/memory/loadgate-service-test-${process.pid}`;
    mkdirSync(directory);
    try {
      writeFileSync(`${directory}/cgroup.procs`, String(service.pid));
      const sampler = startSampler(host!, silentLog, {
        candidate: { kind: 'cgroup', unit: 'growing.service', directory, version: 1, label: 'growing.service' },
      });
      const sample = await sampler.nextSample(5000);
      await sampler.stop();
      const figures = sample?.services[0];
      assert.ok(figures, 'a service segment');
      assert.deepEqual(
        figures.processes.map((process) => process.pid),
        [service.pid],
      );
      // Only pages charged since the move count in a v1 cgroup: some, not the 80 MB faulted in before.
      assert.ok(figures.cgroupCurrentKib !== null && figures.cgroupCurrentKib >= 0, `memory.usage_in_bytes ${figures.cgroupCurrentKib}`);
      assert.ok(
        figures.cgroupPeakKib !== null && figures.cgroupPeakKib >= figures.cgroupCurrentKib,
        `max_usage_in_bytes ${figures.cgroupPeakKib}`,
      );
    } finally {
      writeFileSync('/sys/fs/cgroup/memory/cgroup.procs', String(service.pid));
      for (let attempt = 0; attempt < 50 && existsSync(directory); attempt += 1) {
        try {
          rmdirSync(directory);
        } catch {
          await sleep(100);
        }
      }
    }
  });

  test('a service-unit without a cgroup on the host is an error naming the unit', { timeout: 30_000 }, async () => {
    await assert.rejects(
      HostWatch.start(host!, {
        log: silentLog,
        maxStealPercent: NOT_JUDGED_STEAL,
        services: { service: { kind: 'unit', unit: 'no-such-loadgate-test.service' } },
      }),
      /^TargetError: service-unit 'no-such-loadgate-test\.service' has no cgroup on the host/,
    );
  });
});
