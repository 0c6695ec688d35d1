// The comment as a reader sees it: GitHub-flavoured markdown plus mermaid, drawn by a real
// headless Chromium. The README's picture of it, docs/comment.png, is `npm run docs:comment`
// (test/report/comment-picture.ts); this test screenshots to a temp file only.

import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { renderCommentBody } from '../../src/report/comment-body.ts';
import type { GateReport } from '../../src/report/gate-report.ts';
import { commentMarker } from '../../src/report/pull-request-comment.ts';
import { CHROMIUM, renderMarkdown } from '../support/markdown-render.ts';
import { firstRunReport, regressionReport } from './fixtures.ts';

interface RenderedComment {
  verdict: string | null;
  headers: string[];
  charts: number;
  lines: { series: string; stroke: string | null; points: number }[];
  legend: string[];
  markerVisible: boolean;
  detailsOpen: boolean | null;
  links: string[];
}

function render(report: GateReport, screenshotPath?: string) {
  const markdown = renderCommentBody(report, { marker: commentMarker('api') });
  return renderMarkdown<RenderedComment>(
    markdown,
    (page) =>
      page.evaluate(() => {
        const comment = document.getElementById('comment')!;
        const charts = [...comment.querySelectorAll('pre.mermaid svg[aria-roledescription="xychart"]')];
        return {
          verdict: comment.querySelector('h3')?.textContent ?? null,
          headers: [...comment.querySelectorAll('table')][0]
            ? [...comment.querySelectorAll('table')[0]!.querySelectorAll('th')].map((th) => th.textContent ?? '')
            : [],
          charts: charts.length,
          lines: [...(charts[0]?.querySelectorAll('g[class^="line-plot-"] > path') ?? [])].map((path) => ({
            series: path.parentElement!.getAttribute('class') ?? '',
            stroke: path.getAttribute('stroke'),
            points: (path.getAttribute('d')?.match(/[ML]/g) ?? []).length,
          })),
          legend: [...(charts[0]?.querySelectorAll('g.legend text') ?? [])].map((text) => text.textContent ?? ''),
          markerVisible: comment.textContent.includes('loadgate:api'),
          detailsOpen: comment.querySelector('details')?.open ?? null,
          links: [...comment.querySelectorAll('details a')].map((a) => a.getAttribute('href') ?? ''),
        };
      }),
    { width: 900, screenshotPath },
  );
}

describe('the comment rendered in headless Chromium', { timeout: 60_000 }, () => {
  test('the chart is an SVG with the baseline and this PR as two lines; the screenshot is a real picture', async (t) => {
    assert.ok(
      existsSync(CHROMIUM),
      `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set LOADGATE_CHROMIUM`,
    );
    const dir = await mkdtemp(join(tmpdir(), 'loadgate-comment-png-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const picture = join(dir, 'comment.png');
    const { facts, foreignRequests, milliseconds } = await render(regressionReport(), picture);
    assert.equal(facts.verdict, '❌ api: p95 +18.2% over baseline');
    assert.deepEqual(facts.headers, ['Metric', 'Baseline', 'This PR', 'Change', 'Limit', 'Status']);
    assert.equal(facts.charts, 1);
    assert.deepEqual(facts.lines, [
      { series: 'line-plot-0', stroke: '#8c959f', points: 6 },
      { series: 'line-plot-1', stroke: '#cf222e', points: 6 },
    ]);
    assert.deepEqual(facts.legend, ['baseline', 'this PR']);
    assert.equal(facts.markerVisible, false, 'the marker stays hidden');
    assert.equal(facts.detailsOpen, false, 'the details start collapsed');
    assert.ok(facts.links.includes('https://github.com/acme/shop/actions/runs/9876543210'));
    assert.deepEqual(foreignRequests, []);
    assert.ok(statSync(picture).size > 20_000, 'the screenshot holds a real picture');
    console.log(`rendered in ${Math.round(milliseconds)} ms`);
  });

  test('without a baseline the chart has one line, this PR', async () => {
    const { facts } = await render(firstRunReport());
    assert.equal(facts.charts, 1);
    assert.deepEqual(facts.lines, [{ series: 'line-plot-0', stroke: '#0969da', points: 6 }]);
    assert.deepEqual(facts.legend, ['this PR']);
  });
});
