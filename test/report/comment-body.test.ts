import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { renderCommentBody, renderResolvedCommentBody, renderSummary, renderTerminal } from '../../src/report/comment-body.ts';
import type { GateReport } from '../../src/report/gate-report.ts';
import { COMMENT_MAX_CHARS, SUMMARY_MAX_BYTES } from '../../src/report/github-limits.ts';
import { commentMarker } from '../../src/report/pull-request-comment.ts';
import { parseReport } from '../../src/report/report-schema.ts';
import { PATTERN_SAMPLES, reportFromSchema, textAccepted } from '../support/schema-report.ts';
import {
  errorReport,
  firstRunReport,
  hostOomReport,
  hugeReport,
  inconclusiveReport,
  passReport,
  regressionReport,
  RUN_URL,
} from './fixtures.ts';

const MARKER = commentMarker('api');
const SNAPSHOTS = new URL('./snapshots/', import.meta.url);
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';

/** Compares with the committed snapshot; `UPDATE_SNAPSHOTS=1` rewrites it instead. */
function assertSnapshot(name: string, text: string): void {
  const file = new URL(name, SNAPSHOTS);
  if (UPDATE) {
    mkdirSync(SNAPSHOTS, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `no snapshot ${name}: run with UPDATE_SNAPSHOTS=1 and review the file`);
  assert.equal(text, readFileSync(file, 'utf8'), `${name} differs from its snapshot (UPDATE_SNAPSHOTS=1 rewrites it after review)`);
}

const body = (report: GateReport, maxChars?: number) => renderCommentBody(report, { marker: MARKER, maxChars });
const lines = (text: string) => text.split('\n');
const chartOf = (text: string) => /```mermaid\n([\s\S]*?)\n```/.exec(text)?.[1] ?? '';

describe('comment body', { timeout: 20_000 }, () => {
  const stories: [string, () => GateReport][] = [
    ['pass', passReport],
    ['regression', regressionReport],
    ['inconclusive', inconclusiveReport],
    ['host-oom', hostOomReport],
    ['error', errorReport],
    ['first-run', firstRunReport],
  ];
  for (const [name, make] of stories) {
    test(`${name}: matches its snapshot`, () => assertSnapshot(`${name}.md`, body(make())));
  }

  test("names the PR's head commit, not the test merge commit GITHUB_SHA is on a pull request", () => {
    const report = passReport();
    const merge = body(report);
    assert.match(merge, /commit `3f9c2e7`/);
    const head = body({ ...report, context: { ...report.context, headSha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678' } });
    assert.match(head, /commit `a1b2c3d`/);
    assert.doesNotMatch(head, /3f9c2e7/);
  });

  test('resolved and terminal renderings match their snapshots', () => {
    assertSnapshot('resolved.md', renderResolvedCommentBody(passReport(), { marker: MARKER }));
    assertSnapshot('regression-terminal.txt', renderTerminal(regressionReport()));
    assertSnapshot('host-oom-terminal.txt', renderTerminal(hostOomReport()));
  });

  test('the marker, then the verdict line with its icon', () => {
    const expected: [GateReport, string][] = [
      [regressionReport(), '### ❌ api: p95 +18.2% over baseline'],
      [passReport(), '### ✅ api: no regression: p50 +1.7%, p95 -0.8% vs baseline (20 runs)'],
      [
        inconclusiveReport(),
        "### ⚠️ api: inconclusive: p95 +21.4% over baseline, but measured under CPU steal up to 12.4 % (burst 2, burst 3, burst 4): the hypervisor gave the target's CPU to other machines",
      ],
      [errorReport(), '### 💥 api: error: swap check failed on staging.acme.dev: 0 MB of swap active, swap-size 2G needed'],
      [firstRunReport(), '### ✅ api: no baseline yet: p50 12.31 ms, p95 29.12 ms'],
    ];
    for (const [report, line] of expected) {
      const [marker, blank, verdict] = lines(body(report));
      assert.equal(marker, MARKER);
      assert.equal(blank, '');
      assert.equal(verdict, line);
    }
  });

  test('the table reads Metric | Baseline | This PR | Change | Limit | Status with the figures', () => {
    const text = body(regressionReport());
    assert.match(text, /\| Metric +\| Baseline \| This PR \| +Change \| Limit \| Status +\|/);
    assert.match(text, /\| p95 +\| +29\.4 ms \| +34\.7 ms \| +\+18\.2% \| +\+15% \| ❌ regression \|/);
    assert.match(text, /\| error rate +\| +0\.00% \| +0\.00% \| +— \| +≤ 1% \| ✅ ok +\|/);
  });

  test('the chart has the baseline and this PR as two line series over p50…p99.9', () => {
    const chart = chartOf(body(regressionReport()));
    assert.match(chart, /^%%\{init: .*"plotColorPalette":"#8c959f, #cf222e".*\}%%\nxychart-beta\n/);
    assert.match(chart, /x-axis "percentile" \["p50", "p75", "p90", "p95", "p99", "p99\.9"\]/);
    assert.match(chart, /y-axis "latency \(ms\)" 0 --> 150\n/);
    assert.match(chart, /\n {2}line "baseline" \[12\.1, 16\.9, 23, 29\.35, 48\.8, 87\.2\]\n/);
    assert.match(chart, /\n {2}line "this PR" \[12\.74, 19\.6, 28\.1, 34\.69, 61\.2, 118\.4\]$/);
  });

  test('without a baseline curve the chart has this PR only', () => {
    const chart = chartOf(body(firstRunReport()));
    assert.equal(chart.match(/^ {2}line /gm)?.length, 1);
    assert.match(chart, /line "this PR" \[12\.31, 17\.2, 23\.4, 29\.12, 49\.6, 88\.9\]/);
    assert.doesNotMatch(chart, /baseline/);
  });

  test('an error report has no chart and no table but says what happened', () => {
    const text = body(errorReport());
    assert.doesNotMatch(text, /```mermaid/);
    assert.doesNotMatch(text, /\| Metric/);
    assert.match(text, /```text\nswap check failed on staging\.acme\.dev: 0 MB of swap active, swap-size 2G needed\nMemTotal 972 MB/);
  });

  test('the host story: diagnosis, table, crash line, swap, fingerprint', () => {
    const text = body(hostOomReport());
    assert.match(text, /\*\*Diagnosis:\*\* The kernel killed gunicorn \(pid 812, 410 MB\) at 14:02:31 UTC; no swap was active\./);
    assert.match(text, /\| this run \| +598 MB \| +20 MB \| +459 MB \|/);
    assert.match(text, /Worker \(pid:812\) was sent SIGKILL! Perhaps out of memory\?/);
    assert.match(text, /\*\*Swap\*\* \(`swap: off`\): no swap active on 972 MiB RAM; no swap is active/);
    assert.match(text, /- Host key: `SHA256:Qd6rL0o3sY9xW2bT4uV1pN8mK7jH5gF3eD2cB1aZ0yX`/);
    assert.match(
      text,
      /\| 2 +\| 98\.4 ms \| +236 ms \| 404 ms \| +325 \| 449 \(12\.14%\) \| +42 % \| +20 MB \| oom-kill, worker-crash, memory-pressure \|/,
    );
  });

  test('without a host the comment says host health was not observed', () => {
    const { host: _host, ...report } = passReport();
    assert.match(body(report), /### Host under load\n\nHost health was not observed: no `host` was given/);
  });

  test('the details hold the run link, the reasoning, warnings and the config', () => {
    const text = body(inconclusiveReport());
    const details = text.slice(text.indexOf('<details>'));
    assert.ok(details.endsWith('</details>\n'), 'details are the last part and closed');
    assert.ok(details.includes(`[Workflow run](${RUN_URL}) · commit \`3f9c2e7\``));
    assert.match(details, /- Mode: history\n/);
    assert.match(details, /- \*\*p95\*\*: p95 \+21\.4% \(limit \+15%\), above the history's noise band/);
    assert.match(details, /\| `max-p95-increase` +\| 15% +\|/);
    assert.match(text, /> \[!WARNING\]\n> - The p50 history is too noisy for the \+10% limit/);
  });

  test('credentials in a URL never reach the comment', () => {
    const report = passReport();
    report.settings = { ...report.settings, url: 'https://deploy:hunter2@staging.acme.dev/api|v2?api_key=SECRETKEY' };
    const text = body(report);
    assert.doesNotMatch(text, /hunter2|deploy|SECRETKEY/);
    assert.match(text, /\| `url` +\| `https:\/\/\*\*\*@staging\.acme\.dev\/api\\\|v2\?api_key=\*\*\*` \|/);
  });

  test('a huge report is trimmed below the cap, per-burst rows first, with a note', () => {
    const report = hugeReport(4_000);
    const text = body(report);
    assert.ok(text.length <= COMMENT_MAX_CHARS && text.length < 65_536, `${text.length} characters`);
    const note = /> ✂️ Trimmed to fit GitHub's comment size limit: per-burst rows (\d+)–4000 of 4000 left out\./.exec(text);
    assert.ok(note, 'the trimming note names the rows left out');
    const shown = Number(note[1]) - 1;
    assert.ok(shown > 50, `${shown} rows kept`);
    assert.equal(text.match(/^\| \d+ +\|/gm)?.length, shown);
    assert.match(text, /#### Statistics/);
    assert.ok(text.endsWith(`${note[0]} The full report is in the report JSON (the \`report\` output).\n`));
    assert.equal(text.match(/<details>/g)?.length, text.match(/<\/details>/g)?.length);
    assert.match(text, /^### ❌ api: p95 \+18\.2% over baseline$/m);
    assert.match(text, /line "this PR"/);
  });

  test('a tighter cap drops the other details too, and still keeps verdict, table and chart', () => {
    const text = body(hugeReport(200), 4_000);
    assert.ok(text.length <= 4_000, `${text.length} characters`);
    assert.match(text, /left out\. The full report/);
    assert.match(text, /the statistics, config and host fingerprint details/);
    assert.match(text, /\| p95 +\|/);
    assert.match(text, /line "baseline"/);
    assert.ok(text.includes(`[Workflow run](${RUN_URL})`));
  });

  test('a small report is not trimmed', () => {
    assert.doesNotMatch(body(hugeReport(40)), /Trimmed/);
  });

  test('the job summary is the comment without the marker, under 1 MiB', () => {
    const report = regressionReport();
    assert.equal(renderSummary(report), body(report).slice(`${MARKER}\n\n`.length));
    const huge = renderSummary(hugeReport(4_000));
    assert.doesNotMatch(huge, /Trimmed/);
    assert.equal(huge.match(/^\| \d+ +\|/gm)?.length, 4_000);
    assert.ok(Buffer.byteLength(huge) < 1_048_576);
    const enormous = renderSummary(hugeReport(12_000));
    assert.ok(Buffer.byteLength(enormous) < 1_048_576, `${Buffer.byteLength(enormous)} bytes`);
    assert.match(enormous, /Trimmed to fit the 1 MiB job summary limit: per-burst rows \d+–12000 of 12000 left out/);
  });

  test('the longest report the schema accepts fits the comment and the job summary', () => {
    // Every string at its longest in 3-byte characters; the decision's lists full (200 comparisons, warnings, notes).
    const { data } = reportFromSchema(
      (field, path) => (field.pattern ? textAccepted(field, path, PATTERN_SAMPLES) : '€'.repeat(field.maxChars)),
      (path) =>
        /^decision\.(comparisons|warnings|notes)$|^baseline\.configDifferences$/.test(path) ? Number.POSITIVE_INFINITY : undefined,
    );
    const report = parseReport(data);
    assert.equal(report.decision?.comparisons.length, 200);
    const summary = renderSummary(report);
    assert.ok(Buffer.byteLength(summary) <= SUMMARY_MAX_BYTES, `summary: ${Buffer.byteLength(summary)} bytes`);
    const comment = body(report);
    assert.ok(comment.length <= COMMENT_MAX_CHARS, `comment: ${comment.length} characters`);
    const resolved = renderResolvedCommentBody(report, { marker: MARKER });
    assert.ok(resolved.length <= COMMENT_MAX_CHARS, `resolved comment: ${resolved.length} characters`);
  });

  test('a table alone over the cap leaves the verdict: every form of the summary and the comment is measured', () => {
    const report = regressionReport();
    const memoryRow = { ...report.decision!.comparisons[0]!, metric: 'serviceMemory' as const, limit: '+20%' };
    const huge = { ...report, decision: { ...report.decision!, comparisons: Array.from({ length: 30_000 }, () => memoryRow) } };
    for (const [what, text, size, limit] of [
      ['summary', renderSummary(huge), (text: string) => Buffer.byteLength(text), SUMMARY_MAX_BYTES],
      ['comment', body(huge), (text: string) => text.length, COMMENT_MAX_CHARS],
    ] as const) {
      assert.ok(size(text) <= limit, `${what}: ${size(text)}`);
      assert.match(text, /^### ❌ api: p95 \+18\.2% over baseline$/m, what);
      assert.match(text, /> ✂️ This report is too long for .*: only the verdict is shown\. The full report is in the report JSON/, what);
      assert.doesNotMatch(text, /\| Metric/, what);
    }
  });

  test('the resolved variant is short: marker, resolved line, table', () => {
    const text = renderResolvedCommentBody(passReport(), { marker: MARKER });
    assert.deepEqual(lines(text).slice(0, 3), [MARKER, '', '### ✅ api: resolved: no regression any more']);
    assert.match(text, /\| p50 \(median\) \| +12\.1 ms \| +12\.3 ms \| +\+1\.7% \|/);
    assert.doesNotMatch(text, /mermaid|<details>/);
    assert.ok(text.length < 2_000);
  });

  test('the terminal shows the verdict, the table, warnings and the host diagnosis', () => {
    const inconclusive = renderTerminal(inconclusiveReport());
    assert.match(inconclusive, /^⚠️ api: inconclusive: p95 \+21\.4% over baseline/);
    assert.match(inconclusive, /\| Metric +\| Baseline \| This run \|/);
    assert.match(inconclusive, /\nwarning: The p50 history is too noisy for the \+10% limit/);
    assert.match(inconclusive, /\nhost: the host kept up but the hypervisor stole up to 12\.4 % of the CPU/);
    const oom = renderTerminal(hostOomReport());
    assert.match(oom, /\nhost: the kernel killed gunicorn \(pid 812, 410 MB\) at 14:02:31 UTC; no swap was active\n/);
    assert.doesNotMatch(oom, /<|\*\*|```/);
    const error = renderTerminal(errorReport());
    assert.match(error, /^💥 api: error: swap check failed/);
    assert.match(error, /\nSet `swap: configure` to create \/swapfile/);
  });
});

describe('the processes a service memory figure counted', () => {
  const MiB = 1024;
  const withProcesses = (command: string): GateReport => {
    const report = regressionReport();
    const service = (pids: number[], mb: number[]) => ({
      label: 'gunicorn',
      source: 'pss' as const,
      samples: 10,
      peakKib: mb.reduce((sum, each) => sum + each * MiB, 0),
      processesAtPeak: pids.length,
      processesMax: pids.length,
      largestProcessKib: Math.max(...mb) * MiB,
      largestProcessPid: pids[mb.indexOf(Math.max(...mb))]!,
      cgroupPeakKib: null,
      processPeaks: {
        measure: 'pss' as const,
        processes: pids.map((pid, i) => ({ pid, command: i === 0 ? 'python3 gunicorn' : command, worker: i > 0, peakKib: mb[i]! * MiB })),
      },
    });
    const bursts = report.host!.bursts.map((burst, i) => ({
      ...burst,
      figures: { ...burst.figures, service: service([900, 901, 902], [20, 190 + i, 193 - i]) },
    }));
    return { ...report, host: { ...report.host!, bursts } };
  };

  test('the details list each matched process: pid, shortened command, peak PSS over the bursts, largest first', () => {
    const text = body(withProcesses('python3 gunicorn'));
    const list = /#### Service processes\n\n([\s\S]*?)\n\n/.exec(text)?.[1] ?? '';
    assert.match(list, /^Processes counted as `gunicorn`; a worker's parent is counted too:$/m);
    const rows = /\| pid[\s\S]*$/
      .exec(text.slice(text.indexOf('#### Service processes')))![0]
      .split('\n')
      .slice(2, 5);
    assert.deepEqual(
      rows.map((row) => row.replace(/ +/g, ' ')),
      [
        '| 901 | `python3 gunicorn` worker | 199 MB |',
        '| 902 | `python3 gunicorn` worker | 193 MB |',
        '| 900 | `python3 gunicorn` | 20 MB |',
      ],
    );
  });

  test("a command from a report file is shown inert: it cannot link, mention, draw or split the table's cells", () => {
    const text = body(parseReport(JSON.parse(JSON.stringify(withProcesses('[ok](https://evil.example) @acme/team <img src=x> | x')))));
    const section = text.slice(text.indexOf('#### Service processes'));
    assert.match(section, /\| 901 \| `\[ok\]\(https:\/\/evil\.example\) @acme\/team <img src=x> \\\| x` worker \| +199 MB \|/);
  });
});

describe('the latency table compares like with like', () => {
  /** A run 24 ms from its host: p50 74.0 ms end to end, 50.0 ms of it service time. */
  const withRtt = (basis: 'service-time' | 'end-to-end'): GateReport => {
    const report = regressionReport();
    const judgedP50 = basis === 'service-time' ? { baseline: 50.2, current: 50.0 } : { baseline: 73.1, current: 74.0 };
    const comparisons = report.decision!.comparisons.map((row) =>
      row.metric === 'p50' ? { ...row, ...judgedP50, change: judgedP50.current / judgedP50.baseline - 1 } : row,
    );
    return {
      ...report,
      figures: { ...report.figures!, p50: 74.0 },
      decision: { ...report.decision!, comparisons, latencyBasis: basis },
      network: { rttMs: 24, serviceMedianMs: 50.0, serviceP95Ms: 30.9, probes: 40, failedProbes: 0 },
    };
  };
  const row = (text: string, metric: string) =>
    (text.split('\n').find((line) => line.startsWith(`| ${metric}`)) ?? '')
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());

  test('judged on service time: baseline and this PR are both service time, end to end beside them, the row says so', () => {
    const text = body(withRtt('service-time'));
    assert.match(text, /\| Metric +\| Baseline +\| This PR +\| +Other measure +\| +Change/);
    assert.deepEqual(row(text, 'p50').slice(0, 5), ['p50 (median), service time', '50.2 ms', '50.0 ms', '74.0 ms end to end', '-0.4%']);
    assert.deepEqual(row(text, 'p99').slice(0, 4), ['p99, end to end', '48.8 ms', '61.2 ms', '—']);
  });

  test('judged end to end: both columns end to end, service time beside them', () => {
    const text = body(withRtt('end-to-end'));
    assert.deepEqual(row(text, 'p50').slice(0, 5), ['p50 (median), end to end', '73.1 ms', '74.0 ms', '50.0 ms service', '+1.2%']);
  });

  test('a run whose bursts had no 2xx response shows no percentile: "—", never 0.000 ms', () => {
    const report = regressionReport();
    const failed = report.bursts.map((result) => ({ ...result, ok: 0, p50: 0, p95: 0, p99: 0, non2xx: 5_000, errorRate: 1 }));
    const allErrors: GateReport = { ...report, bursts: failed, figures: { ...report.figures!, p50: 0, p95: 0, p99: 0, errorRate: 1 } };
    for (const text of [body(allErrors), renderTerminal(allErrors)]) {
      assert.doesNotMatch(text, /0\.000 ms/);
      assert.deepEqual(row(text, 'p50').slice(1, 4), ['12.1 ms', '—', '—']);
    }
    const perBurst = body(allErrors).split('#### Per-burst figures')[1]!;
    assert.match(perBurst, /\| 1 +\| +— \| +— \| +— \|/);
    assert.doesNotMatch(body(allErrors), /mermaid/);
  });
});
