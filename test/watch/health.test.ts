import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { burstFigures } from '../../src/watch/burst-figures.ts';
import { scanCrashLines } from '../../src/watch/crash-patterns.ts';
import { healthFindings, healthFlags } from '../../src/watch/health.ts';
import { parseOomKills } from '../../src/watch/kernel-log.ts';
import { DEFAULT_STEAL, health, sample } from './health-fixtures.ts';

describe('burst figures and health verdicts', { timeout: 10_000 }, () => {
  test('figures: before / min / after, deltas of the counters, peaks', () => {
    const figures = burstFigures([
      sample({ uptime: 100, availableKib: 500_000, pswpin: 10, oomKill: 3, psiSome: 0.5 }),
      sample({ uptime: 101, availableKib: 40_000, swapFreeKib: 848_576, pswpin: 60, oomKill: 3, psiSome: 22.5, steal: 0 }),
      sample({ uptime: 102, availableKib: 450_000, swapFreeKib: 948_576, pswpin: 70, oomKill: 4, psiSome: 12, steal: 120 }),
    ]);
    assert.equal(figures.samples, 3);
    assert.equal(figures.spanSec, 2);
    assert.equal(figures.memAvailableBeforeKib, 500_000);
    assert.equal(figures.memAvailableMinKib, 40_000);
    assert.equal(figures.memAvailableAfterKib, 450_000);
    assert.equal(figures.swapUsedPeakKib, 200_000);
    assert.equal(figures.swapInPages, 60);
    assert.equal(figures.oomKills, 1);
    assert.equal(figures.majorFaults, 2);
    assert.equal(figures.psiSomePeak, 22.5);
    assert.equal(figures.psiFullPeak, 11.25);
    // Between the first and last sample 520 ticks passed (200 user, 200 idle, 120 steal).
    assert.ok(Math.abs(figures.stealPercent! - (120 / 520) * 100) < 1e-9);
  });

  test('no samples: nothing is invented', () => {
    const figures = burstFigures([]);
    assert.equal(figures.memAvailableMinKib, null);
    assert.equal(figures.psiSomePeak, null);
    assert.equal(figures.oomKills, null);
    assert.deepEqual(
      healthFlags({ figures, oomKills: [], crashLines: scanCrashLines([]), generatorCpu: 0.1, maxStealPercent: DEFAULT_STEAL }),
      ['ok'],
    );
  });

  test('each flag at its threshold', () => {
    const quiet = burstFigures([
      sample({ uptime: 1, availableKib: 9e5, psiSome: 10 }),
      sample({ uptime: 2, availableKib: 9e5, psiSome: 10 }),
    ]);
    assert.deepEqual(health({ figures: quiet, generatorCpu: 0.85 }).flags, ['ok']);
    assert.deepEqual(health({ figures: { ...quiet, psiSomePeak: 10.1 } }).flags, ['memory-pressure']);
    assert.deepEqual(health({ figures: { ...quiet, swapInPages: 1 } }).flags, ['swapping']);
    assert.deepEqual(health({ figures: { ...quiet, oomKills: 1 } }).flags, ['oom-kill']);
    assert.deepEqual(health({ figures: { ...quiet, stealPercent: 5.5 } }).flags, ['cpu-steal']);
    assert.deepEqual(health({ figures: quiet, generatorCpu: 0.9 }).flags, ['generator-saturated']);
    const crash = scanCrashLines(['Worker (pid:9) was sent SIGKILL! Perhaps out of memory?']);
    assert.deepEqual(health({ figures: quiet, crashLines: crash }).flags, ['worker-crash']);
  });

  test('findings: a kill or a crash line is a crash that names the process; steal and saturation are the environment', () => {
    const figures = burstFigures([sample({ uptime: 1, availableKib: 9e5 }), sample({ uptime: 2, availableKib: 1e4, oomKill: 1 })]);
    const [kill] = parseOomKills(
      '1700000531.5 host kernel: Out of memory: Killed process 812 (gunicorn) total-vm:512000kB, anon-rss:419840kB, file-rss:0kB',
      null,
    );
    const bursts = [
      health({ figures, oomKills: [kill!], burstIndex: 2 }),
      health({
        figures: { ...figures, oomKills: 0, stealPercent: 7.25 },
        burstIndex: 3,
        generatorCpu: 0.93,
        crashLines: scanCrashLines(['[ERROR] Worker (pid:813) was sent SIGKILL! Perhaps out of memory?']),
      }),
      health({ figures: { ...figures, oomKills: 2 }, burstIndex: 4 }),
    ];
    const findings = healthFindings(
      bursts,
      bursts.map((b) => ({ index: b.burstIndex, target: b.target, generatorCpu: b.generatorCpu })),
    );
    assert.deepEqual(findings.crashes, [
      'the kernel killed gunicorn (pid 812, 410 MB) at 22:22:11 UTC during burst 3',
      'worker killed (SIGKILL, perhaps out of memory) during burst 4: [ERROR] Worker (pid:813) was sent SIGKILL! Perhaps out of memory?',
      'the kernel OOM-killed 2 processes during burst 5 (the kernel log did not name them)',
    ]);
    assert.deepEqual(findings.environmentIssues, [
      "CPU steal up to 7.3 % (burst 4): the hypervisor gave the target's CPU to other machines",
      'load generator at up to 93 % of a core (burst 4): latencies measured the generator, not the server',
    ]);
  });

  test('a healthy run has no findings', () => {
    const figures = burstFigures([sample({ uptime: 1, availableKib: 9e5 }), sample({ uptime: 2, availableKib: 8e5 })]);
    assert.deepEqual(healthFindings([health({ figures })], [{ index: 0, target: 'candidate', generatorCpu: 0.2 }]), {
      crashes: [],
      environmentIssues: [],
    });
  });
});
