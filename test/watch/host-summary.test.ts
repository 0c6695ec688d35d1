import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { burstFigures } from '../../src/watch/burst-figures.ts';
import { scanCrashLines } from '../../src/watch/crash-patterns.ts';
import { parseMachine, type HostMachine } from '../../src/watch/machine.ts';
import { renderHostUnderLoad } from '../../src/report/host-section.ts';
import { hostUnderLoad, summarizeHostRun } from '../../src/watch/host-summary.ts';
import { parseOomKills } from '../../src/watch/kernel-log.ts';
import { health, sample } from './health-fixtures.ts';

const MACHINE: HostMachine = parseMachine(
  '@kernel\n6.1.0-18-cloud-amd64\n@cpuinfo\nprocessor\t: 0\nmodel name\t: QEMU Virtual CPU version 2.5+\n@meminfo\nMemTotal: 995568 kB\nSwapTotal: 0 kB\n@product\nStandard PC (i440FX + PIIX, 1996)\n@vendor\nQEMU\n',
);

const NO_SWAP = (uptime: number, availableKib: number, oomKill = 0, psiSome = 0.2) => {
  const decoded = sample({ uptime, availableKib, oomKill, psiSome });
  return { ...decoded, meminfo: { ...decoded.meminfo, swapTotalKib: 0, swapFreeKib: 0 } };
};

const KILL = parseOomKills(
  '1714572131.0 staging kernel: Out of memory: Killed process 812 (gunicorn) total-vm:512000kB, anon-rss:419840kB, file-rss:0kB',
  null,
);

describe('host under load summary', { timeout: 10_000 }, () => {
  test('without host: says host health was not observed', () => {
    const model = hostUnderLoad(null);
    assert.equal(model.observed, false);
    assert.match(renderHostUnderLoad(model), /### Host under load\n\nHost health was not observed: no `host` was given/);
  });

  test('host given but no burst ran: says so instead of inventing figures', () => {
    const model = hostUnderLoad({ bursts: [], machine: MACHINE });
    assert.ok(model.observed);
    assert.equal(model.diagnosis, 'no burst ran, so the host was not watched under load');
    assert.match(renderHostUnderLoad(model), /\| this run \| +– \| +– \| +– \|/);
  });

  test('the seed story: an OOM-killed gunicorn on a host without swap', () => {
    const bursts = [
      health({ figures: burstFigures([NO_SWAP(100, 600_000), NO_SWAP(101, 300_000), NO_SWAP(102, 500_000)]) }),
      health({
        burstIndex: 1,
        figures: burstFigures([NO_SWAP(110, 500_000), NO_SWAP(111, 20_480, 0, 35.5), NO_SWAP(112, 480_000, 1, 30)]),
        oomKills: KILL,
        crashLines: scanCrashLines(['[2024-05-01 14:02:11 +0000] [700] [ERROR] Worker (pid:812) was sent SIGKILL! Perhaps out of memory?']),
      }),
    ];
    const model = hostUnderLoad({ bursts, machine: MACHINE });
    assert.ok(model.observed);
    assert.equal(model.diagnosis, 'the kernel killed gunicorn (pid 812, 410 MB) at 14:02:11 UTC; no swap was active');
    const [run] = model.runs;
    assert.equal(run?.memAvailableBeforeKib, 600_000);
    assert.equal(run?.memAvailableMinKib, 20_480);
    assert.equal(run?.memAvailableAfterKib, 480_000);
    assert.equal(run?.oomKills, 1);
    assert.equal(run?.crashLines, 1);
    assert.deepEqual(run?.flags, ['oom-kill', 'worker-crash', 'memory-pressure']);

    const markdown = renderHostUnderLoad(model);
    assert.match(markdown, /\*\*Diagnosis:\*\* The kernel killed gunicorn \(pid 812, 410 MB\) at 14:02:11 UTC; no swap was active\./);
    assert.match(markdown, /\| this run \| +586 MB \| +20 MB \| +469 MB \| +no swap \| +0 \| +35\.5 % \| +0\.0 % \| +1 \| +1 \|/);
    assert.match(
      markdown,
      /```text\n\[2024-05-01 14:02:11 \+0000\] \[700\] \[ERROR\] Worker \(pid:812\) was sent SIGKILL! Perhaps out of memory\?\n```/,
    );
    assert.match(
      markdown,
      /Host: QEMU Standard PC \(i440FX \+ PIIX, 1996\), 1 × QEMU Virtual CPU version 2\.5\+, 972 MB RAM, no swap, kernel 6\.1\.0-18-cloud-amd64\./,
    );
  });

  test('a healthy run with a stored baseline from another machine', () => {
    const bursts = [health({ figures: burstFigures([NO_SWAP(1, 800_000), NO_SWAP(2, 700_000), NO_SWAP(3, 790_000)]) })];
    const baselineMachine = { ...MACHINE, memTotalKib: 2_000_000 };
    const storedRun = summarizeHostRun('stored', bursts);
    const model = hostUnderLoad({ bursts, machine: MACHINE, storedBaseline: { run: storedRun, machine: baselineMachine } });
    assert.ok(model.observed);
    assert.equal(
      model.diagnosis,
      'the host stayed healthy: MemAvailable stayed at or above 684 MB of 972 MB, no swapping, no OOM kills, no crash lines',
    );
    assert.deepEqual(
      model.runs.map((run) => run.label),
      ['this run', 'baseline'],
    );
    assert.deepEqual(model.baselineMachineDifferences, ['memory: 1953 MB → 972 MB']);
    const markdown = renderHostUnderLoad(model);
    assert.match(markdown, /The baseline was measured on a different machine \(memory: 1953 MB → 972 MB\)/);
    assert.doesNotMatch(markdown, /Crash lines from/);
  });

  test('A/B bursts get their own row; a crash line cannot break out of its code block', () => {
    const figures = burstFigures([NO_SWAP(1, 800_000), NO_SWAP(2, 800_000)]);
    const bursts = [
      health({ figures, target: 'baseline' }),
      health({ figures, burstIndex: 1, crashLines: scanCrashLines(['Segmentation fault ``` `rm` ````']) }),
    ];
    const model = hostUnderLoad({ bursts, machine: MACHINE });
    assert.ok(model.observed);
    assert.deepEqual(
      model.runs.map((run) => [run.label, run.bursts]),
      [
        ['this run', 1],
        ['baseline (A/B)', 1],
      ],
    );
    assert.equal(
      model.diagnosis,
      'the application logged a crash (segmentation fault, 1 line) but the kernel killed nothing; no swap was active',
    );
    assert.match(renderHostUnderLoad(model), /`````text\nSegmentation fault ``` `rm` ````\n`````/);
  });
});
