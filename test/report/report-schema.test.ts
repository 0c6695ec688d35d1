// The report schema accepts every report loadgate writes, unchanged, and refuses the rest with
// the field's path: `comment-from` renders only what passed it.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { GateReport } from '../../src/report/gate-report.ts';
import { parseReport, ReportSchemaError } from '../../src/report/report-schema.ts';
import { historySource } from '../../src/verdict/decide.ts';
import { applyMemoryRules } from '../../src/verdict/memory-rules.ts';
import { burstFigures } from '../../src/watch/burst-figures.ts';
import { bursts, decideOn, gate, history } from '../verdict/bursts.ts';
import { health, sample } from '../watch/health-fixtures.ts';
import { errorReport, firstRunReport, hostOomReport, hugeReport, inconclusiveReport, passReport, regressionReport } from './fixtures.ts';

/** As `comment-from` sees it: written with JSON.stringify, parsed back. */
const roundTrip = (report: unknown): unknown => JSON.parse(JSON.stringify(report));

function problemsOf(data: unknown): readonly string[] {
  try {
    parseReport(data);
  } catch (error) {
    if (error instanceof ReportSchemaError) return error.problems;
    throw error;
  }
  return [];
}

describe('report schema', () => {
  it('accepts every kind of report loadgate writes and returns it unchanged', () => {
    const reports: GateReport[] = [
      passReport(),
      regressionReport(),
      inconclusiveReport(),
      hostOomReport(),
      errorReport(),
      firstRunReport(),
      hugeReport(400),
    ];
    for (const report of reports) {
      const withHead = { ...report, context: { ...report.context, headSha: 'c0ffee00'.repeat(5) } };
      assert.deepEqual(parseReport(roundTrip(withHead)), roundTrip(withHead), report.headline);
    }
  });

  it('reads a limit as numbers with units: every limit the verdict rules write, nothing else', () => {
    const latency = decideOn({
      bursts: bursts(20, 102),
      baseline: historySource(history(Array(12).fill(100))),
      gate: { ...gate, p95BudgetMs: 90.5 },
    });
    const service = {
      label: 'gunicorn',
      source: 'pss' as const,
      samples: 2,
      peakKib: 612 * 1024,
      processesAtPeak: 3,
      processesMax: 3,
      largestProcessKib: 204 * 1024,
      largestProcessPid: 812,
      cgroupPeakKib: null,
    };
    const hostBursts = [0, 1, 2].map((index) => {
      const samples = [0, 2].map((second) => sample({ uptime: 10 * index + second, availableKib: 41 * 1024, pswpin: second * 2_500 }));
      return health({ burstIndex: index, figures: { ...burstFigures(samples), service } });
    });
    const limits = { maxMemoryIncrease: 0.2, minMemoryHeadroom: 0.125, maxSwapInMbPerSec: 0.5 };
    const decision = applyMemoryRules(latency, { limits, hostBursts, history: [], live: false });
    const written = decision.comparisons.map((row) => `${row.metric} ${row.limit}`);
    assert.deepEqual(written, [
      'p50 +10%',
      'p95 +15%, ≤ 90.5 ms',
      'p99 ',
      'requestsPerSec ',
      'errorRate ≤ 1%',
      'serviceMemory +20%',
      'memoryHeadroom ≥ 12.5%',
      'swapIn ≤ 0.5 MB/s',
    ]);
    const report = { ...passReport(), decision };
    assert.deepEqual(parseReport(roundTrip(report)), roundTrip(report));

    const forged = roundTrip(report) as any;
    forged.decision.comparisons[5].limit = '<h3>✅ loadgate: no regression (forged)</h3>';
    forged.decision.comparisons[6].limit = '12';
    forged.decision.comparisons[7].limit = '≤ 0.5 MB/s\n@org/team';
    const accepted = 'expected a limit such as "+15%", "+15%, ≤ 250 ms", "≥ 10%" or "≤ 5 MB/s" (or "" for none)';
    assert.deepEqual(problemsOf(forged), [
      `\`decision.comparisons[5].limit\` is "<h3>✅ loadgate: no regression (forge…"; ${accepted}`,
      `\`decision.comparisons[6].limit\` is "12"; ${accepted}`,
      `\`decision.comparisons[7].limit\` is "≤ 0.5 MB/s\\n@org/team"; ${accepted}`,
    ]);
  });

  it('keeps only the fields it knows', () => {
    const report = { ...passReport(), injected: '<script>', context: { ...passReport().context, extra: 1 } };
    const parsed = parseReport(roundTrip(report)) as unknown as Record<string, unknown>;
    assert.equal('injected' in parsed, false);
    assert.equal('extra' in (parsed.context as Record<string, unknown>), false);
  });

  it('names nested fields by their path', () => {
    const report = roundTrip(hostOomReport()) as any;
    report.bursts[2].target = 'elsewhere';
    report.host.bursts[0].figures.swapInPages = -1;
    report.host.bursts[1].oomKills = 'many';
    report.decision.comparisons[0].change = null;
    report.curve.candidate[3] = '12';
    assert.deepEqual(problemsOf(report), [
      '`bursts[2].target` is "elsewhere"; expected one of "candidate", "baseline"',
      '`curve.candidate[3]` is "12"; expected a finite number ≥ 0',
      '`decision.comparisons[0].change` is null; expected a finite number',
      '`host.bursts[0].figures.swapInPages` is -1; expected a whole number ≥ 0',
      '`host.bursts[1].oomKills` is "many"; expected an array',
    ]);
  });

  it('refuses another file before listing fields, and caps lists and text', () => {
    assert.deepEqual(problemsOf([1, 2]), ['`schema` / `version` are missing / missing; expected "loadgate-report" / 1']);
    assert.deepEqual(problemsOf({ schema: 'loadgate-report', version: 2 }), [
      '`schema` / `version` are "loadgate-report" / 2; expected "loadgate-report" / 1',
    ]);
    const long = roundTrip(passReport()) as any;
    long.decision.warnings = Array.from({ length: 201 }, () => 'w');
    long.context.headSha = 'HEAD';
    assert.deepEqual(problemsOf(long), [
      '`context.headSha` is "HEAD"; expected a hex commit sha (40 digits, 64 for SHA-256)',
      '`decision.warnings` has 201 items; expected at most 200',
    ]);
  });

  it('shows at most ten problems and counts the rest', () => {
    const report = roundTrip(passReport()) as any;
    for (const burst of report.bursts) Object.assign(burst, { p50: 'x', p90: 'x', p95: 'x' });
    assert.throws(
      () => parseReport(report),
      (error: Error) => {
        assert.equal(error.message.split('\n').length, 11);
        assert.match(error.message, /\n- … and 5 more$/);
        return true;
      },
    );
  });
});
