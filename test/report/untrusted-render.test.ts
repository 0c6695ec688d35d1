// Text from the target host and from a report file reaches the gate's own comment. Rendered the
// way a reader sees it (marked, GitHub-flavoured, in headless Chromium), none of it may ping
// anyone, draw an image, link elsewhere or forge the verdict.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../src/log.ts';
import { acquireLock, type HostLock } from '../../src/remote/lock.ts';
import { renderCommentBody, renderResolvedCommentBody, renderSummary } from '../../src/report/comment-body.ts';
import type { GateReport } from '../../src/report/gate-report.ts';
import { inertProse, plainLine, untrusted } from '../../src/report/untrusted-text.ts';
import { decide } from '../../src/verdict/decide.ts';
import { endpointFigures, reduceRun } from '../../src/verdict/reduce-run.ts';
import { healthFindings } from '../../src/watch/health.ts';
import { scanCrashLines } from '../../src/watch/crash-patterns.ts';
import { localHost } from '../support/local-host.ts';
import { renderMarkdown } from '../support/markdown-render.ts';
import { gate } from '../verdict/bursts.ts';
import { errorReport, hostOomReport, passReport } from './fixtures.ts';

const HOSTILE =
  '@org/team <img src=x onerror=alert(1)> [✅ all checks passed](https://evil.example/) `a` ``b`` <https://evil.example/x> www.evil.example';
const MARKER = '<!-- loadgate:api -->';

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
});
