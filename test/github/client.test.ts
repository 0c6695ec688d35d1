// The client's retries and waits against real HTTP on 127.0.0.1: the GitHub fake for the
// faults it can inject, a bare server for the headers it cannot (primary rate limit, 409).

import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createGitHubClient } from '../../src/github/client.ts';
import { GitHubFake } from '../support/github-fake.ts';
import { captureLog, type CapturedLog } from '../support/capture-log.ts';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: object;
}

/** Answers requests in turn from `answers`; the last one repeats. */
async function scriptedServer(answers: Answer[]): Promise<{ url: string; requests: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    request.resume();
    const answer = answers[Math.min(requests.length, answers.length - 1)];
    requests.push(request.headers);
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const SECONDARY_LIMIT = 'You have exceeded a secondary rate limit.';
const comment = { owner: 'acme', repo: 'shop', issue_number: 42, body: 'hello' };

describe('createGitHubClient retries and waits', { timeout: 30_000 }, () => {
  let fake: GitHubFake;
  let log: CapturedLog;
  beforeEach(async () => {
    fake = await GitHubFake.start();
    log = captureLog();
  });
  afterEach(() => fake.close());

  test('a secondary rate limit (429) is waited out for the seconds GitHub names, and logged', async () => {
    fake.failNext('issues/create-comment', 429, { message: SECONDARY_LIMIT, retryAfterSeconds: 2 });
    const github = createGitHubClient({ token: fake.token, apiUrl: fake.url, log, retryBaseDelayMs: 50 });
    const started = performance.now();
    await github.rest.issues.createComment(comment);
    const waitedMs = performance.now() - started;
    assert.ok(waitedMs >= 100, `waited ${waitedMs} ms for retry-after 2 at 50 ms a unit`);
    assert.deepEqual(
      fake.requests.map((r) => `${r.route} ${r.status}`),
      ['issues/create-comment 429', 'issues/create-comment 201'],
    );
    const expected =
      "info: GitHub's secondary rate limit stopped POST /repos/{owner}/{repo}/issues/{issue_number}/comments; " + 'retrying in 2 s (1/3).';
    assert.ok(log.messages.includes(expected), log.messages.join('\n'));
    assert.deepEqual(fake.violations, []);
  });

  test('a secondary rate limit asking for more than 60 s surfaces at once instead of holding the job', async () => {
    fake.failNext('issues/create-comment', 403, { message: SECONDARY_LIMIT, retryAfterSeconds: 61 });
    const github = createGitHubClient({ token: fake.token, apiUrl: fake.url, log }); // real seconds: a wait would time the test out
    const started = performance.now();
    await assert.rejects(github.rest.issues.createComment(comment), (error: { status?: number }) => error.status === 403);
    assert.ok(performance.now() - started < 5_000);
    assert.equal(fake.requests.length, 1);
    assert.ok(
      log.messages.some((line) => /lifts in 61 s, longer than the 60 s loadgate waits/.test(line)),
      log.messages.join('\n'),
    );
  });

  test('a secondary rate limit that keeps coming gives up after the bounded retries', async () => {
    fake.failNext('issues/create-comment', 403, { message: SECONDARY_LIMIT, retryAfterSeconds: 1, times: 10 });
    const github = createGitHubClient({ token: fake.token, apiUrl: fake.url, log, retryBaseDelayMs: 5 });
    await assert.rejects(github.rest.issues.createComment(comment), (error: { status?: number }) => error.status === 403);
    assert.equal(fake.requests.length, 4, 'one attempt and 3 retries');
  });

  test('server errors are retried with a logged line per retry', async () => {
    fake.failNext('issues/create-comment', 502, { times: 2 });
    const github = createGitHubClient({ token: fake.token, apiUrl: fake.url, log, retryBaseDelayMs: 5 });
    await github.rest.issues.createComment(comment);
    assert.deepEqual(
      fake.requests.map((r) => r.status),
      [502, 502, 201],
    );
    const retries = log.messages.filter((line) => line.includes('GitHub answered 502 to POST'));
    assert.deepEqual(
      retries.map((line) => line.slice(-6)),
      ['(1/3).', '(2/3).'],
    );
  });
});

describe('createGitHubClient against headers the fake does not send', { timeout: 30_000 }, () => {
  test('a primary rate limit lifting in an hour surfaces at once', async () => {
    const resetAt = Math.floor(Date.now() / 1000) + 3600;
    const server = await scriptedServer([
      {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetAt) },
        body: { message: 'API rate limit exceeded' },
      },
    ]);
    const log = captureLog();
    try {
      const github = createGitHubClient({ token: 't0ken', apiUrl: server.url, log });
      await assert.rejects(github.rest.issues.createComment(comment), /API rate limit exceeded/);
      assert.equal(server.requests.length, 1);
      assert.ok(
        log.messages.some((line) => /primary rate limit .* lifts in 360\d s/.test(line)),
        log.messages.join('\n'),
      );
    } finally {
      await server.close();
    }
  });

  test('a 409 (stale sha) goes straight to the caller, which owns conflict handling', async () => {
    const server = await scriptedServer([
      { status: 409, body: { message: 'is at 1234 but expected 5678' } },
      { status: 200, body: {} },
    ]);
    try {
      const github = createGitHubClient({ token: 't0ken', apiUrl: server.url, log: captureLog(), retryBaseDelayMs: 5 });
      const put = github.rest.repos.createOrUpdateFileContents({
        owner: 'acme',
        repo: 'shop',
        path: 'a.json',
        message: 'append a run',
        content: 'e30=',
        sha: '5678',
      });
      await assert.rejects(put, (error: { status?: number }) => error.status === 409);
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });
});
