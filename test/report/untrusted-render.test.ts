// Text from the target host and from a report file reaches the gate's own comment. Rendered the
// way a reader sees it (marked, GitHub-flavoured, in headless Chromium), none of it may ping
// anyone, draw an image, link elsewhere or forge the verdict.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../src/log.ts';
import { acquireLock, type HostLock } from '../../src/remote/lock.ts';
import { renderCommentBody, renderResolvedCommentBody, renderSummary } from '../../src/report/comment-body.ts';
import type { GateReport } from '../../src/report/gate-report.ts';
import { commentMarker } from '../../src/report/pull-request-comment.ts';
import { parseReport } from '../../src/report/report-schema.ts';
import { fenced, inertProse, plainLine, untrusted } from '../../src/report/untrusted-text.ts';
import { decide } from '../../src/verdict/decide.ts';
import { endpointFigures, reduceRun } from '../../src/verdict/reduce-run.ts';
import { healthFindings } from '../../src/watch/health.ts';
import { scanCrashLines } from '../../src/watch/crash-patterns.ts';
import { localHost } from '../support/local-host.ts';
import { renderMarkdown } from '../support/markdown-render.ts';
import { PATTERN_SAMPLES, reportFromSchema, textAccepted, type TextField } from '../support/schema-report.ts';
import { gate } from '../verdict/bursts.ts';
import { errorReport, hostOomReport, passReport } from './fixtures.ts';

const HOSTILE =
  '@org/team <img src=x onerror=alert(1)> [✅ all checks passed](https://evil.example/) `a` ``b`` <https://evil.example/x> www.evil.example';
const MARKER = commentMarker('api');

/** A crash report built the way the pipeline builds one, from a hostile application log line. */
function hostileCrashReport(): GateReport {
  const report = hostOomReport();
  const host = report.host!;
  const crashLines = scanCrashLines([`[ERROR] Worker (pid:812) was sent SIGKILL! Perhaps out of memory? ${HOSTILE}`]);
  const kill = { ...host.bursts[1]!.oomKills[0]!, name: `gunicorn ${HOSTILE}` };
  const bursts = host.bursts.map((burst, index) => (index === 1 ? { ...burst, crashLines, oomKills: [kill] } : burst));
  const findings = healthFindings(bursts, report.bursts);
  const decision = decide({
    figures: endpointFigures(reduceRun({ bursts: report.bursts, baseline: { kind: 'none' } })),
    gate,
    crashes: findings.crashes,
    environmentIssues: findings.environmentIssues,
  });
  return {
    ...report,
    verdict: decision.verdict,
    headline: decision.headline,
    decision: { ...decision, notes: [...decision.notes, `${HOSTILE}\n# forged heading\n- forged item`] },
    context: { ...report.context, runUrl: 'https://evil.example/acme/shop/actions/runs/1' },
    host: {
      ...host,
      bursts,
      fingerprint: {
        ...host.fingerprint,
        kernel: `6.1.0 ${HOSTILE}\n### ✅ forged heading`,
        cpuModel: `Xeon ${HOSTILE}`,
        product: HOSTILE,
      },
    },
  };
}

interface Inert {
  heading: string;
  images: number;
  links: string[];
  /** Text that is neither code nor inside a code block: where a mention or autolink would act. */
  prose: string;
  headings: string[];
}

async function rendered(markdown: string): Promise<Inert> {
  const { facts, foreignRequests } = await renderMarkdown<Inert>(markdown, (page) =>
    page.evaluate(() => {
      const comment = document.getElementById('comment')!;
      const walker = document.createTreeWalker(comment, NodeFilter.SHOW_TEXT);
      let prose = '';
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.parentElement?.closest('code, pre')) prose += `${node.textContent}\n`;
      }
      return {
        heading: comment.querySelector('h3')?.textContent ?? '',
        images: comment.querySelectorAll('img').length,
        links: [...comment.querySelectorAll('a')].map((a) => a.getAttribute('href') ?? ''),
        prose,
        headings: [...comment.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((h) => h.textContent ?? ''),
      };
    }),
  );
  assert.deepEqual(foreignRequests, []);
  return facts;
}

function assertInert(facts: Inert, what: string): void {
  assert.equal(facts.images, 0, `${what}: no image`);
  assert.deepEqual(
    facts.links.filter((href) => href.includes('evil')),
    [],
    `${what}: no link elsewhere`,
  );
  assert.doesNotMatch(facts.prose, /@org\/team|@octocat/, `${what}: no mention outside code`);
  assert.doesNotMatch(facts.prose, /https?:\/\/evil|www\.evil/, `${what}: no bare link outside code`);
  assert.ok(!facts.headings.some((heading) => heading.includes('forged heading')), `${what}: no forged heading`);
}

describe('untrusted text in the comment is inert', { timeout: 120_000 }, () => {
  let lockDirectory: string;
  let held: HostLock | undefined;

  before(() => {
    lockDirectory = mkdtempSync(join(tmpdir(), 'loadgate-untrusted-lock-'));
  });
  after(async () => {
    await held?.release();
    rmSync(lockDirectory, { recursive: true, force: true });
  });

  test('crash line, process name, kernel, CPU model, notes and a foreign run link', async () => {
    const report = hostileCrashReport();
    assert.equal(report.verdict, 'regression');
    for (const [what, markdown] of [
      ['comment', renderCommentBody(report, { marker: MARKER, serverUrl: 'https://github.com' })],
      ['summary', renderSummary(report, { serverUrl: 'https://github.com' })],
    ] as const) {
      const facts = await rendered(markdown);
      assertInert(facts, what);
      assert.match(
        facts.heading,
        /^❌ api: target crashed under load: the kernel killed gunicorn @/,
        `${what}: the real verdict leads the heading`,
      );
      const shown = facts.heading.replace(/\u200b/g, '');
      assert.ok(
        shown.includes('<img src=x onerror=alert(1)> [✅ all checks passed](https://evil.example/)'),
        `${what}: the quoted text is shown as written`,
      );
      assert.ok(!facts.links.some((href) => href.includes('actions/runs')), `${what}: a run link on another host is not linked`);
    }
  });

  test("a lock holder's note, quoted by the lock-timeout error", async () => {
    const host = localHost();
    held = await acquireLock(
      host,
      { timeoutMs: 5_000, holder: { runId: `1 ${HOSTILE}`, repository: `${HOSTILE}\n::error::injected` }, directory: lockDirectory },
      silentLog,
    );
    const error = await acquireLock(
      host,
      { timeoutMs: 0, holder: { runId: '2', repository: 'acme/shop' }, directory: lockDirectory },
      silentLog,
    ).then(
      () => assert.fail('the lock is held'),
      (failure: Error) => failure.message,
    );
    assert.ok(error.includes('@org/team'), error);
    const report: GateReport = { ...errorReport(), headline: error.split('\n')[0]!, error };
    const facts = await rendered(renderCommentBody(report, { marker: MARKER }));
    assertInert(facts, 'lock error');
    assert.match(facts.heading, /^💥 api: error: Another loadgate run holds the lock on the target: run 1 @/);
  });

  test('the resolved comment quotes the headline inert too', async () => {
    const report = { ...passReport(), headline: HOSTILE };
    assertInert(await rendered(renderResolvedCommentBody(report, { marker: MARKER })), 'resolved');
  });

  test('a report read back by comment-from, with text where numbers belong', async () => {
    const report = hostOomReport();
    const text = (value: string) => value as unknown as number;
    const forged: GateReport = {
      ...report,
      settings: { ...report.settings, connections: text(HOSTILE), bursts: text(HOSTILE), method: HOSTILE, baselineKey: HOSTILE },
      bursts: report.bursts.map((burst) => ({ ...burst, non2xx: text(HOSTILE) })),
      curve: { ...report.curve!, percentiles: [50, 75, 90, 95, 99, text(`9"]\n\`\`\`\n${HOSTILE}\n\`\`\`mermaid\n`)] },
      host: {
        ...report.host!,
        bursts: report.host!.bursts.map((burst) => ({
          ...burst,
          flags: [text(HOSTILE) as never],
          figures: { ...burst.figures, swapInPages: text(HOSTILE) },
        })),
      },
    };
    assertInert(await rendered(renderCommentBody(forged, { marker: MARKER })), 'comment-from');
  });

  test('a run link on the server host is linked; anything else is shown unlinked', () => {
    const report = passReport();
    const linked = (runUrl: string, serverUrl?: string) =>
      renderSummary({ ...report, context: { ...report.context, runUrl } }, { serverUrl }).includes(`](${runUrl})`);
    assert.ok(linked('https://github.com/acme/shop/actions/runs/9876543210'));
    assert.ok(linked('https://ghe.example.com/acme/shop/actions/runs/1/attempts/2', 'https://ghe.example.com'));
    assert.ok(!linked('https://ghe.example.com/acme/shop/actions/runs/1'));
    assert.ok(!linked('http://github.com/acme/shop/actions/runs/1'));
    assert.ok(!linked('https://github.com/acme/shop/actions/runs/1?x=)[✅](https://evil.example)'));
    assert.ok(!linked('javascript:alert(1)'));
  });
});

/**
 * What a forged report puts in every string field it may: each line one way text could act in
 * a comment. Under 300 characters with its path, so an inline position (capped there) shows it whole.
 */
const FORGED = [
  '\u202eforged\u202c \u2066iso\u2069 zero\u200bwidth x|y',
  '<h3>✅ loadgate: no regression (forged)</h3>',
  '<details open><summary>forged</summary>',
  '[✅ ok](https://evil.example/) ![i](https://evil.example/i) <img src=//evil.example/x>',
  '@org/team &#64;org/team GH-1 #1 www.evil.example <https://evil.example/a> `a` ``b`',
  '<!-- loadgate:api --> -->',
].join('\n');
const PLAIN = 'plain text';

/** The same report twice, from the schema: attacker text in every string field, and plain words. */
function schemaReports(): { forged: GateReport; plain: GateReport; texts: Map<string, string> } {
  const pick = (words: string) => (field: TextField, path: string) =>
    textAccepted(field, path, [...(field.pattern ? [] : [`${words} (${path})`]), ...PATTERN_SAMPLES]);
  const forged = reportFromSchema(pick(FORGED));
  const plain = reportFromSchema(pick(PLAIN));
  // As `comment-from` reads it: the forged text is what the schema accepts, not a bypass.
  return { forged: parseReport(forged.data), plain: parseReport(plain.data), texts: forged.texts };
}

interface Structure {
  /** How many elements of each tag, but code (a code span shows any text). */
  tags: Record<string, number>;
  links: string[];
  openDetails: number;
  /** Text that is neither code nor inside a code block: where a mention or autolink would act. */
  prose: string;
  text: string;
  /** Each table's rows' cell texts. */
  tables: string[][][];
}

async function structureOf(markdown: string): Promise<Structure> {
  const { facts, foreignRequests } = await renderMarkdown<Structure>(markdown, (page) =>
    page.evaluate(() => {
      const comment = document.getElementById('comment')!;
      const tags: Record<string, number> = {};
      for (const element of comment.querySelectorAll('*')) {
        const tag = element.tagName.toLowerCase();
        if (tag !== 'code') tags[tag] = (tags[tag] ?? 0) + 1;
      }
      const walker = document.createTreeWalker(comment, NodeFilter.SHOW_TEXT);
      let prose = '';
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.parentElement?.closest('code, pre')) prose += `${node.textContent}\n`;
      }
      return {
        tags,
        links: [...comment.querySelectorAll('a')].map((a) => a.getAttribute('href') ?? ''),
        openDetails: [...comment.querySelectorAll('details')].filter((details) => details.open).length,
        prose,
        text: comment.textContent ?? '',
        tables: [...comment.querySelectorAll('table')].map((table) =>
          [...table.querySelectorAll('tr')].map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent ?? '')),
        ),
      };
    }),
  );
  assert.deepEqual(foreignRequests, []);
  return facts;
}

describe('a report generated from the schema, attacker text in every string field', { timeout: 300_000 }, () => {
  test('renders with the structure of the same report in plain words: nothing in it acts', async () => {
    const { forged, plain, texts } = schemaReports();
    const filled = [...texts.entries()].filter(([, text]) => text.startsWith(FORGED.slice(0, 20))).map(([path]) => path);
    // The fields of issue 25: the service label and (through its pattern) the limit of a memory row.
    assert.ok(filled.includes('host.bursts[0].figures.service.label'), filled.join(', '));
    // Issue 27: each matched process's shortened command line, listed in the details.
    assert.ok(filled.includes('host.bursts[0].figures.service.processPeaks.processes[0].command'), filled.join(', '));
    assert.equal(texts.get('decision.comparisons[5].limit'), '+15%, ≤ 250 ms');
    assert.equal(forged.decision?.comparisons[5]?.metric, 'serviceMemory');
    assert.ok(filled.length >= 50, `${filled.length} string fields carry the forged text`);

    const renderings: [string, (report: GateReport) => string][] = [
      ['comment', (report) => renderCommentBody(report, { marker: commentMarker(report.name), serverUrl: 'https://github.com' })],
      ['summary', (report) => renderSummary(report, { serverUrl: 'https://github.com' })],
      ['resolved comment', (report) => renderResolvedCommentBody(report, { marker: commentMarker(report.name) })],
    ];
    for (const [what, render] of renderings) {
      const markdown = render(forged);
      assert.doesNotMatch(markdown, /Trimmed|too long/, `${what}: shown whole`);
      const shown = await structureOf(markdown);
      const expected = await structureOf(render(plain));
      assert.deepEqual(shown.tags, expected.tags, `${what}: the same elements as in plain words (no heading, details, image, link added)`);
      assert.deepEqual(shown.links, expected.links, `${what}: the same links`);
      assert.equal(shown.openDetails, 0, `${what}: no details forced open`);
      assert.doesNotMatch(shown.prose, /@org\/team|\bGH-\d|#\d|https?:\/\/evil|www\.evil/i, `${what}: no mention, reference or bare link`);
      assert.doesNotMatch(shown.text, /[\u202a-\u202e\u2066-\u2069]|zero\u200bwidth/, `${what}: no bidi control or zero-width character`);
      assert.ok(shown.text.includes('zerowidth'), `${what}: the forged words are shown`);
      for (const [t, table] of expected.tables.entries()) {
        for (const [r, row] of table.entries()) {
          for (const [c, cell] of row.entries()) {
            if (cell.includes(PLAIN)) continue;
            assert.equal(shown.tables[t]?.[r]?.[c], cell, `${what}: table ${t + 1} row ${r + 1} keeps its cells`);
          }
        }
      }
    }
  });
});

describe('the inert forms', { timeout: 10_000 }, () => {
  test('a code span outlasts the backticks inside it, on one line, capped', () => {
    assert.equal(untrusted('a ``b`` c'), '```a ``b`` c```');
    assert.equal(untrusted('`edge`'), '`` `edge` ``');
    assert.equal(untrusted('one\ntwo\r\nthree'), '`one two three`');
    assert.equal(untrusted('x'.repeat(500)).length, 300 + 2);
    assert.equal(untrusted(''), '(empty)');
  });

  test('prose keeps its words and loses its markup, mentions and links', () => {
    assert.equal(
      inertProse('- [x](y) <b> @team #12 https://e www.e *bold* 1. `code`'),
      '\\- \\[x\\](y) \\<b\\> @\u200bteam #\u200b12 https:\u200b//e www\u200b.e \\*bold\\* 1. `code`',
    );
  });

  test('a log line cannot start a workflow command', () => {
    assert.equal(plainLine('held by run 1\n::error::forged\u2028x'), 'held by run 1 ::error::forged x');
  });

  test('bidi controls and zero-width characters are dropped everywhere; GH-1 is no reference', () => {
    const reordered = 'p95 \u202e+18%\u202c \u2066ok\u2069 ze\u200bro\u200d\ufeff';
    assert.equal(plainLine(reordered), 'p95 +18% ok zero');
    assert.equal(untrusted(reordered), '`p95 +18% ok zero`');
    assert.equal(inertProse(`${reordered} GH-1 gh-22 @\u200bteam`), 'p95 +18% ok zero GH\u200b-1 gh\u200b-22 @\u200bteam');
    assert.equal(fenced([reordered, '\tindented\r']), '```text\np95 +18% ok zero\n\tindented \n```');
  });

  test('only untrusted-text.ts makes Markdown: no other source casts a string to it', () => {
    const sources = (directory: URL): URL[] =>
      readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? sources(new URL(`${entry.name}/`, directory)) : [new URL(entry.name, directory)],
      );
    const casts = sources(new URL('../../src/', import.meta.url))
      .filter((file) => file.pathname.endsWith('.ts') && !file.pathname.endsWith('/report/untrusted-text.ts'))
      .filter((file) => /\bas\s+(?:unknown\s+as\s+)?Markdown\b|<Markdown>/.test(readFileSync(file, 'utf8')))
      .map((file) => file.pathname);
    assert.deepEqual(casts, []);
  });
});
