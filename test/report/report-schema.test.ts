// The report schema accepts every report loadgate writes, unchanged, and refuses the rest with
// the field's path: `comment-from` renders only what passed it.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { GateReport } from '../../src/report/gate-report.ts';
import { parseReport, ReportSchemaError } from '../../src/report/report-schema.ts';
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
