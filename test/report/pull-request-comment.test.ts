// The sticky PR comment against the local GitHub fake: what a reviewer sees on the PR (one
// comment, updated in place) and what a maintainer sees when the token may not comment.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { CommentMode } from '../../src/config/settings.ts';
import { createGitHubClient, type GitHubClient } from '../../src/github/client.ts';
import { COMMENT_CHAR_LIMIT } from '../../src/report/github-limits.ts';
import { commentMarker, fitCommentBody, pullRequestOfEvent, upsertComment } from '../../src/report/pull-request-comment.ts';
import { GitHubFake, HUMAN } from '../support/github-fake.ts';
import { captureLog, type CapturedLog } from '../support/capture-log.ts';

const PR = 42;
const MARKER = '<!-- loadgate:api -->';

describe('upsertComment against the GitHub fake', { timeout: 60_000 }, () => {
  let fake: GitHubFake;
  let log: CapturedLog;
  let github: GitHubClient;

  // Bodies come from the renderer starting with the marker; the tests write the rest.
  const upsert = (
    body: string,
    mode: CommentMode = 'always',
    isRegression = false,
    extra: { readOnlyForkToken?: boolean; resolvedBody?: string } = {},
  ) =>
    upsertComment({
      github,
      owner: 'acme',
      repo: 'shop',
      issueNumber: PR,
      name: 'api',
      body: `${MARKER}\n${body}`,
      mode,
      isRegression,
      log,
      ...extra,
    });
  const writes = () => fake.requests.filter((r) => r.route === 'issues/create-comment' || r.route === 'issues/update-comment');

  beforeEach(async () => {
    fake = await GitHubFake.start();
    log = captureLog();
    github = createGitHubClient({ token: fake.token, apiUrl: fake.url, log, retryBaseDelayMs: 5 });
  });
  afterEach(async () => {
    await fake.close();
  });

  test("creates the comment with the marker on its first line, as the job token's bot", async () => {
    const result = await upsert('✅ no regression');
    assert.equal(result.action, 'created');
    const comments = fake.comments(PR);
    assert.equal(comments.length, 1);
    assert.equal(comments[0].body, `${MARKER}\n✅ no regression`);
    assert.equal(comments[0].login, 'github-actions[bot]');
    assert.equal(result.url, `https://github.com/acme/shop/pull/42#issuecomment-${comments[0].id}`);
    assert.deepEqual(fake.violations, []);
  });

  test('finds its comment on page 2 of 151 and updates it in place, without a duplicate', async () => {
    for (let i = 0; i < 120; i += 1) fake.addComment(PR, `review remark ${i}`, HUMAN);
    const ours = fake.addComment(PR, `${MARKER}\n❌ p95 +18% over baseline`);
    for (let i = 0; i < 30; i += 1) fake.addComment(PR, `later remark ${i}`, HUMAN);

    const result = await upsert('✅ no regression');
    assert.equal(result.action, 'updated');
    assert.equal(result.url, `https://github.com/acme/shop/pull/42#issuecomment-${ours}`);
    const comments = fake.comments(PR);
    assert.equal(comments.length, 151);
    assert.equal(comments.find((c) => c.id === ours)?.body, `${MARKER}\n✅ no regression`);
    const pages = fake.requests.filter((r) => r.route === 'issues/list-comments').map((r) => r.url);
    assert.deepEqual(pages, [
      '/repos/acme/shop/issues/42/comments?per_page=100',
      '/repos/acme/shop/issues/42/comments?per_page=100&page=2',
    ]);
    assert.deepEqual(
      writes().map((r) => r.route),
      ['issues/update-comment'],
    );
    assert.deepEqual(fake.violations, []);
  });

  test("ignores a human's comment quoting the marker and another gate's comment", async () => {
    const quoted = fake.addComment(PR, `Why does it say ${MARKER}?`, HUMAN);
    const otherGate = fake.addComment(PR, `${commentMarker('api-v2')}\nother gate`);
    const result = await upsert('✅ no regression');
    assert.equal(result.action, 'created');
    const comments = fake.comments(PR);
    assert.equal(comments.length, 3);
    assert.equal(comments.find((c) => c.id === quoted)?.body, `Why does it say ${MARKER}?`);
    assert.equal(comments.find((c) => c.id === otherGate)?.body, `${commentMarker('api-v2')}\nother gate`);
    assert.deepEqual(fake.violations, []);
  });

  test("a human's comment starting with the marker is never edited: the gate writes its own", async () => {
    const forged = fake.addComment(PR, `${MARKER}\n### ✅ api: no regression (forged)`, HUMAN);
    const result = await upsert('❌ p95 +18% over baseline');
    assert.equal(result.action, 'created');
    const comments = fake.comments(PR);
    assert.equal(comments.find((c) => c.id === forged)?.body, `${MARKER}\n### ✅ api: no regression (forged)`);
    assert.deepEqual(
      comments.filter((c) => c.id !== forged).map((c) => c.body),
      [`${MARKER}\n❌ p95 +18% over baseline`],
    );
    assert.deepEqual(
      writes().map((r) => r.route),
      ['issues/create-comment'],
    );
  });

  test('learns its identity from GraphQL when GET /user answers 403, once per client', async () => {
    await upsert('first');
    await upsert('second');
    assert.equal(fake.requests.filter((r) => r.route === 'users/get-authenticated' && r.status === 403).length, 1);
    assert.equal(fake.requests.filter((r) => r.route === 'graphql').length, 1);
    assert.equal(fake.comments(PR).length, 1);
    assert.equal(fake.comments(PR)[0].body, `${MARKER}\nsecond`);
    assert.deepEqual(fake.violations, []);
  });

  test("another gate's comment quoting this gate's marker in a crash line is left alone", async () => {
    const other = fake.addComment(PR, `<!-- loadgate:web -->\n\`\`\`text\n[ERROR] Worker was sent SIGKILL! ${MARKER}\n\`\`\``);
    const result = await upsert('✅ no regression');
    assert.equal(result.action, 'created');
    assert.ok(
      fake
        .comments(PR)
        .find((c) => c.id === other)
        ?.body.startsWith('<!-- loadgate:web -->'),
    );
    assert.equal(fake.comments(PR).length, 2);
  });

  test('with a personal token, GET /user names the identity and no GraphQL call is made', async () => {
    await fake.close();
    fake = await GitHubFake.start({ account: HUMAN });
    github = createGitHubClient({ token: fake.token, apiUrl: fake.url, log, retryBaseDelayMs: 5 });
    const mine = fake.addComment(PR, `${MARKER}\nold`);
    const result = await upsert('new');
    assert.equal(result.action, 'updated');
    assert.equal(fake.comments(PR).find((c) => c.id === mine)?.body, `${MARKER}\nnew`);
    assert.equal(fake.requests.filter((r) => r.route === 'graphql').length, 0);
    assert.deepEqual(fake.violations, []);
  });

  test('sends the token on every request and never logs it', async () => {
    fake.failNext('issues/create-comment', 502);
    await upsert('body');
    assert.ok(fake.requests.length >= 4);
    for (const request of fake.requests) assert.equal(request.headers.authorization, `token ${fake.token}`);
    assert.ok(
      log.messages.some((line) => line.includes('retrying')),
      'the retry is logged',
    );
    assert.ok(!log.messages.some((line) => line.includes(fake.token)));
  });

  test('a 403 on create is a warning naming the permission, not an error', async () => {
    fake.failNext('issues/create-comment', 403, { message: 'Resource not accessible by integration' });
    const result = await upsert('❌ p95 +18%', 'always', true, { readOnlyForkToken: false });
    assert.equal(result.action, 'skipped');
    assert.equal(result.url, undefined);
    assert.match(result.warning!, /GitHub answered 403 \(Resource not accessible by integration\)/);
    assert.match(result.warning!, /add `permissions: pull-requests: write` to the job/);
    assert.match(result.warning!, /verdict, the job summary and the exit code are unaffected/);
    assert.deepEqual(
      log.messages.filter((l) => l.startsWith('warning:')),
      [`warning: ${result.warning}`],
    );
    assert.equal(fake.comments(PR).length, 0);
    assert.deepEqual(fake.violations, []);
  });

  test('a 403 on update from a fork PR names the workflow_run pattern with comment-from', async () => {
    fake.addComment(PR, `${MARKER}\nold`);
    fake.failNext('issues/update-comment', 403, { message: 'Resource not accessible by integration' });
    const result = await upsert('new', 'always', false, { readOnlyForkToken: true });
    assert.equal(result.action, 'skipped');
    assert.match(result.warning!, /comes from a fork/);
    assert.match(result.warning!, /`workflow_run`/);
    assert.match(result.warning!, /`comment-from: <path of the report JSON>`/);
    assert.equal(fake.comments(PR)[0].body, `${MARKER}\nold`);
    assert.deepEqual(fake.violations, []);
  });

  test('a body over 65,536 characters is cut with a note, accepted, and found again next run', async () => {
    const body = `❌ regression\n<details><summary>bursts</summary>\n\n\`\`\`\n${'burst 1 p95 20.1 ms\n'.repeat(4000)}\`\`\`\n</details>\n`;
    assert.ok(body.length > 70_000);
    const created = await upsert(body, 'always', true);
    assert.equal(created.action, 'created');
    const [stored] = fake.comments(PR);
    assert.ok(stored.body.length <= COMMENT_CHAR_LIMIT, `${stored.body.length} characters`);
    assert.ok(stored.body.startsWith(`${MARKER}\n❌ regression`));
    assert.match(
      stored.body,
      /\n```\n<\/details>\n\n> ⚠️ This comment was cut at GitHub's 65,536-character limit\. The full report is in the run's job summary\.\n$/,
    );
    assert.ok(log.messages.includes("warning: The report was cut to fit GitHub's 65536-character comment limit."));
    assert.equal((await upsert(body, 'always', true)).action, 'updated');
    assert.equal(fake.comments(PR).length, 1);
    assert.deepEqual(fake.violations, []);
  });

  test('a 422 from GitHub (body refused) is an error carrying its message', async () => {
    fake.failNext('issues/create-comment', 422, { message: 'Body is too long (maximum is 65536 characters)' });
    await assert.rejects(upsert('x'), /Body is too long \(maximum is 65536 characters\)/);
    assert.equal(fake.comments(PR).length, 0);
    assert.deepEqual(fake.violations, []);
  });

  test('5xx answers are retried until GitHub answers, leaving exactly one comment', async () => {
    fake.failNext('issues/list-comments', 502, { times: 2 });
    fake.failNext('issues/create-comment', 500);
    const result = await upsert('✅ no regression');
    assert.equal(result.action, 'created');
    assert.equal(fake.comments(PR).length, 1);
    assert.deepEqual(
      fake.requests.filter((r) => r.route.startsWith('issues/')).map((r) => `${r.route} ${r.status}`),
      [
        'issues/list-comments 502',
        'issues/list-comments 502',
        'issues/list-comments 200',
        'issues/create-comment 500',
        'issues/create-comment 201',
      ],
    );
    assert.deepEqual(fake.violations, []);
  });

  test('gives up after the bounded retries and throws the last error', async () => {
    fake.failNext('issues/list-comments', 503, { times: 10 });
    await assert.rejects(upsert('x'), (error: { status?: number }) => error.status === 503);
    assert.equal(fake.requests.filter((r) => r.route === 'issues/list-comments').length, 4, 'one attempt and 3 retries');
  });

  test('a secondary rate limit (403 with retry-after) is waited out, not reported as a permission problem', async () => {
    fake.failNext('issues/create-comment', 403, { message: 'You have exceeded a secondary rate limit.', retryAfterSeconds: 0 });
    const result = await upsert('body');
    assert.equal(result.action, 'created');
    assert.equal(result.warning, undefined);
    assert.deepEqual(fake.violations, []);
  });

  test('on-regression: silent on a pass, creates on regression, resolves the comment when fixed', async () => {
    assert.deepEqual(await upsert('✅ no regression', 'on-regression', false), { action: 'skipped' });
    assert.equal(fake.comments(PR).length, 0);
    assert.equal(writes().length, 0);

    assert.equal((await upsert('❌ p95 +18% over baseline', 'on-regression', true)).action, 'created');
    const resolvedBody = `${MARKER}\n✅ resolved: no regression any more`;
    const resolved = await upsert('✅ no regression', 'on-regression', false, { resolvedBody });
    assert.equal(resolved.action, 'resolved');
    assert.deepEqual(
      fake.comments(PR).map((c) => c.body),
      [resolvedBody],
    );
    assert.deepEqual(fake.violations, []);
  });

  test('never: no request at all', async () => {
    assert.deepEqual(await upsert('❌', 'never', true), { action: 'skipped' });
    assert.equal(fake.requests.length, 0);
  });
});

describe('pull request of an event', { timeout: 5_000 }, () => {
  const payload = (head: string | null) => ({
    pull_request: { number: 7, head: { repo: head === null ? null : { full_name: head } }, base: { repo: { full_name: 'acme/shop' } } },
  });

  test('pull_request from the same repository: number, writable token', () => {
    assert.deepEqual(pullRequestOfEvent('pull_request', payload('acme/shop')), { number: 7, readOnlyForkToken: false });
  });

  test('pull_request from a fork (or a deleted fork): read-only token', () => {
    assert.deepEqual(pullRequestOfEvent('pull_request', payload('someone/shop')), { number: 7, readOnlyForkToken: true });
    assert.deepEqual(pullRequestOfEvent('pull_request', payload(null)), { number: 7, readOnlyForkToken: true });
  });

  test('pull_request_target from a fork runs with the base repository token', () => {
    assert.deepEqual(pullRequestOfEvent('pull_request_target', payload('someone/shop')), { number: 7, readOnlyForkToken: false });
  });

  test('push, schedule and malformed payloads have no pull request', () => {
    assert.equal(pullRequestOfEvent('push', payload('acme/shop')), undefined);
    assert.equal(pullRequestOfEvent('schedule', {}), undefined);
    assert.equal(pullRequestOfEvent('pull_request', {}), undefined);
    assert.equal(pullRequestOfEvent('pull_request', { pull_request: { number: '7' } }), undefined);
  });
});

describe('comment body guards', { timeout: 5_000 }, () => {
  test('a gate name cannot close the hidden marker early', () => {
    assert.equal(commentMarker('api'), '<!-- loadgate:api -->');
    assert.equal(commentMarker('a-->b'), '<!-- loadgate:a_b -->');
  });

  test('bodies within the limit are untouched; a cut never splits an emoji', () => {
    assert.equal(fitCommentBody('short', 100), 'short');
    const cut = fitCommentBody('😀'.repeat(200), 400);
    assert.ok(cut.length <= 400 && cut.length > 50, String(cut.length));
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(cut), 'no lone high surrogate');
  });
});
