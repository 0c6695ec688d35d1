import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDocument, serializeDocument, emptyDocument, appendRun } from '../../src/baseline/history.ts';
import { baselineWindow } from '../../src/baseline/window.ts';
import { historySource } from '../../src/verdict/decide.ts';
import { applyHostSpeedRule, hostSpeedFigures, runHostSpeedOf } from '../../src/verdict/host-speed-rule.ts';
import { latencyTable } from '../../src/report/latency-table.ts';
import { parseReport } from '../../src/report/report-schema.ts';
import { parseHostSpeed } from '../../src/watch/host-speed.ts';
import { regressionReport } from '../report/fixtures.ts';
import { bursts, decideOn, gate, pastRun } from './bursts.ts';

/** Six healthy stored runs at p50 20 ms / p95 40 ms whose host indices were these MB/s. */
const storedAt = (speeds: number[]) => speeds.map((hostSpeedMbps, i) => ({ ...pastRun(20, 40, i), hostSpeedMbps }));
const HISTORY = storedAt([400, 410, 395, 405, 400, 398]);

/** The stored-baseline decision on five bursts at this p50/p95. */
const decided = (p50: number, p95: number, history = HISTORY) =>
  decideOn({ bursts: bursts(p50, p95), baseline: historySource(history), gate });

describe('host speed probe output', { timeout: 10_000 }, () => {
  test('MB/s from the faster pass less the empty pass', () => {
    // 8 MiB in 30.5 ms less 3.5 ms of fork and exec: 8,388,608 bytes in 27 ms.
    assert.deepEqual(parseHostSpeed('@host-speed 8 30500000 3500000\n'), { mib: 8, hashMs: 27, mbPerSec: 310.7 });
  });
  test('a host without the tools, or output that does not add up, says why', () => {
    assert.deepEqual(parseHostSpeed('@host-speed unsupported: date has no nanoseconds\n'), {
      unsupported: 'date has no nanoseconds',
    });
    assert.deepEqual(parseHostSpeed('motd\n'), { unsupported: 'the probe printed no result' });
    assert.match((parseHostSpeed('@host-speed 8 3000000 3500000') as { unsupported: string }).unsupported, /unreadable result/);
  });
});

describe('host speed as a validity check', { timeout: 10_000 }, () => {
  test("the run's index is the median of the probes before candidate bursts; the history's of the baseline window", () => {
    const probe = (mbPerSec: number) => ({ mib: 8, hashMs: 20, mbPerSec });
    const hostBursts = [
      { target: 'candidate', hostSpeed: probe(300) },
      { target: 'baseline', hostSpeed: probe(900) },
      { target: 'candidate', hostSpeed: probe(280) },
      { target: 'candidate' },
      { target: 'candidate', hostSpeed: probe(310) },
    ];
    assert.equal(runHostSpeedOf(hostBursts), 300);
    assert.equal(runHostSpeedOf([{ target: 'candidate' }]), undefined);
    const history = [...HISTORY, { ...pastRun(20, 40, 9, false), hostSpeedMbps: 50 }, pastRun(20, 40, 10)];
    const figures = hostSpeedFigures(288, baselineWindow(history).runs)!;
    assert.equal(figures.historyMbps, 400);
    assert.equal(figures.historyRuns, 6, 'the unhealthy run and the run without an index are left out');
    assert.equal(Number(figures.change!.toFixed(3)), -0.28);
    assert.deepEqual(hostSpeedFigures(288, [pastRun(20, 40, 0)]), { currentMbps: 288, historyRuns: 0 });
  });

  test('a latency regression on a host 28 % slower is inconclusive, naming the host', () => {
    const latency = decided(26, 52);
    assert.equal(latency.verdict, 'regression');
    const decision = applyHostSpeedRule(latency, hostSpeedFigures(288, HISTORY));
    assert.equal(decision.verdict, 'inconclusive');
    assert.match(decision.headline, /^the host ran 28% slower than in its history \(CPU credits, steal or a neighbour\): p50 \+30\.0%/);
    assert.ok(decision.comparisons.every((row) => row.status !== 'regression'));
    assert.equal(decision.comparisons.find((row) => row.metric === 'p50')!.status, 'inconclusive');
    assert.ok(decision.warnings.some((warning) => warning.includes("288 MB/s against the history's 400 MB/s (6 runs)")));
  });

  test('the same regression on a host as fast as its history, or 5 % slower, stays a regression', () => {
    for (const speed of [400, 380]) {
      const decision = applyHostSpeedRule(decided(26, 52), hostSpeedFigures(speed, HISTORY));
      assert.equal(decision.verdict, 'regression', `at ${speed} MB/s`);
      assert.ok(decision.notes.some((note) => note.startsWith('Host speed (SHA-256 over zeros on the host, before each burst)')));
    }
  });

  test('a slowdown the host does not explain is not absorbed: +60 % on a host 12 % slower stays a regression', () => {
    const latency = decided(32, 64);
    const decision = applyHostSpeedRule(latency, hostSpeedFigures(352, HISTORY));
    assert.equal(decision.verdict, 'regression', decision.headline);
    assert.equal(decision.headline, latency.headline);
    assert.ok(
      decision.warnings.some((warning) =>
        /^The host ran 12% slower than in its history .*too little to explain a rise of \+60\.0%/.test(warning),
      ),
      decision.warnings.join('\n'),
    );
  });

  test('a pass is never changed; on a host 25 % faster it warns that a slowdown would not show', () => {
    const pass = decided(20, 40);
    assert.equal(pass.verdict, 'pass');
    assert.equal(applyHostSpeedRule(pass, hostSpeedFigures(288, HISTORY)).verdict, 'pass');
    const faster = applyHostSpeedRule(pass, hostSpeedFigures(500, HISTORY));
    assert.equal(faster.verdict, 'pass');
    assert.ok(faster.warnings.some((warning) => /^The host ran 25% faster than in its history .*would not show\.$/.test(warning)));
  });

  test('a memory regression stays, whatever the host speed', () => {
    const latency = decided(26, 52);
    const withMemory = {
      ...latency,
      comparisons: [
        ...latency.comparisons,
        {
          metric: 'serviceMemory' as const,
          current: 600,
          baseline: 400,
          change: 0.5,
          limit: '+20%',
          status: 'regression' as const,
          reasoning: '',
        },
      ],
    };
    assert.equal(applyHostSpeedRule(withMemory, hostSpeedFigures(200, HISTORY)).verdict, 'regression');
  });

  test('without stored indices, or outside stored mode, nothing changes', () => {
    const latency = decided(26, 52);
    assert.deepEqual(applyHostSpeedRule(latency, hostSpeedFigures(200, [pastRun(20, 40, 0)])), latency);
    assert.deepEqual(applyHostSpeedRule(latency, undefined), latency);
    const ab = { ...latency, mode: 'ab' as const };
    assert.deepEqual(applyHostSpeedRule(ab, hostSpeedFigures(200, HISTORY)), ab);
  });

  test('the index is stored with the run and read back; a bad one is refused', () => {
    const document = appendRun(emptyDocument(), 'shop', { ...pastRun(20, 40, 0), hostSpeedMbps: 312.5 });
    assert.equal(parseDocument(serializeDocument(document), 'here').histories.shop![0]!.hostSpeedMbps, 312.5);
    const bad = serializeDocument(appendRun(emptyDocument(), 'shop', { ...pastRun(20, 40, 0), hostSpeedMbps: -1 }));
    assert.throws(() => parseDocument(bad, 'here'), /histories\.shop\[0\]\.hostSpeedMbps is not a positive number/);
  });

  test('the table shows the host speed row, flagged when the host changed; the report file keeps it', () => {
    const report = { ...regressionReport(), hostSpeed: hostSpeedFigures(288, HISTORY)! };
    const row = latencyTable(report)
      .split('\n')
      .find((line) => line.startsWith('| host speed (CPU probe)'));
    assert.ok(row, latencyTable(report));
    assert.match(row, /\| +400 MB\/s \| +288 MB\/s \| +-28\.0% \| +±10% \| ⚠️ host changed +\|$/);
    const steady = latencyTable({ ...report, hostSpeed: hostSpeedFigures(395, HISTORY)! });
    assert.match(steady, /\| host speed \(CPU probe\) .*\| info +\|/);
    assert.deepEqual(parseReport(JSON.parse(JSON.stringify(report))).hostSpeed, report.hostSpeed);
  });
});
