// The fork pattern through the bundle, against the GitHub fake: a `pull_request` run from a fork
// measures and writes the report (it may not comment); a `workflow_run` run posts it with
// `comment-from`. The report is the fork's work, so the posting run trusts only the event and the
// API: the PR is the open one whose head is the workflow run's commit from its head repository.

import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { GitHubFake } from '../support/github-fake.ts';
import { schemaProblems } from '../support/openapi-validator.ts';
import { runBundle, SHORT_RUN, type BundleRun } from '../support/run-bundle.ts';

const PR = 7;
const VICTIM_PR = 5;
/** On `pull_request`, GITHUB_SHA is the test merge commit; the PR's head is another commit. */
const MERGE_SHA = '9e1f0c7b2a3d4e5f60718293a4b5c6d7e8f90a1b';
const HEAD_SHA = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const VICTIM_HEAD_SHA = 'b1ab1ab1ab1ab1ab1ab1ab1ab1ab1ab1ab1ab1ab';
const FORK = 'someone/shop';
const FORK_BRANCH = 'faster-search';
const REAL_VERDICT = '<!-- loadgate:api -->\n### ❌ api: p95 +41 % over baseline\n';

describe("comment-from posts a fork's report only on the PR the workflow run built", { timeout: 300_000 }, () => {
  let fake: GitHubFake;
  let target: DemoTarget;
  let dir: string;
  let env: Record<string, string>;
  let honest: Record<string, unknown>;
  let reportFiles = 0;
  const base = () => `${fake.owner}/${fake.repo}`;
  const repository = () => ({ id: fake.repositoryId(base()), name: fake.repo, full_name: base(), default_branch: 'main', fork: false });

  /** A `pull_request` (synchronize) payload for PR 7 from the fork, as GitHub sends it. */
  const pullRequestEvent = () => ({
    action: 'synchronize',
    number: PR,
    before: '0'.repeat(40),
    after: HEAD_SHA,
    pull_request: {
      number: PR,
      state: 'open',
      merge_commit_sha: MERGE_SHA,
      head: {
        label: `someone:${FORK_BRANCH}`,
        ref: FORK_BRANCH,
        sha: HEAD_SHA,
        repo: { id: fake.repositoryId(FORK), name: 'shop', full_name: FORK, fork: true },
      },
      base: { label: `${fake.owner}:main`, ref: 'main', sha: 'a'.repeat(40), repo: repository() },
    },
    repository: repository(),
  });

  /** A `workflow_run` (completed) payload; a fork's run lists no pull requests. */
  const workflowRunEvent = (overrides: Record<string, unknown> = {}) => ({
    action: 'completed',
    workflow_run: {
      id: 9_000_001,
      name: 'latency gate',
      event: 'pull_request',
      status: 'completed',
      conclusion: 'success',
      head_branch: FORK_BRANCH,
      head_sha: HEAD_SHA,
      pull_requests: [],
      head_repository: { id: fake.repositoryId(FORK), name: 'shop', full_name: FORK, fork: true },
      repository: repository(),
      html_url: `https://github.com/${base()}/actions/runs/9000001`,
      ...overrides,
    },
    workflow: { id: 161335, name: 'latency gate', path: '.github/workflows/gate.yml' },
    repository: repository(),
  });

  const post = async (reportText: string, event: unknown = workflowRunEvent(), eventName = 'workflow_run'): Promise<BundleRun> => {
    reportFiles += 1;
    const path = join(dir, `report-${reportFiles}.json`);
    await writeFile(path, reportText);
    return runBundle({ inputs: { 'comment-from': path, 'github-token': fake.token, name: 'api' }, eventName, event, env });
  };
  const changed = (mutate: (report: any) => void): string => {
    const copy = structuredClone(honest);
    mutate(copy);
    return JSON.stringify(copy);
  };
  const commentWrites = () => fake.requests.filter((r) => ['issues/create-comment', 'issues/update-comment'].includes(r.route)).length;

  before(async () => {
    fake = await GitHubFake.start();
    target = await startTarget({ delayMs: 5 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-comment-from-'));
    env = { GITHUB_API_URL: fake.url, GITHUB_REPOSITORY: base() };
    fake.addPullRequest({ number: VICTIM_PR, headSha: VICTIM_HEAD_SHA, headRef: 'slow-query' });
    fake.addComment(VICTIM_PR, REAL_VERDICT);
    fake.addPullRequest({ number: PR, headSha: HEAD_SHA, headRef: FORK_BRANCH, headRepository: FORK });
    // Enough newer PRs that PR 7 is on the second page of the list (newest first, 100 a page).
    for (let number = 100; number < 230; number += 1) fake.addPullRequest({ number, headSha: `${number}`.padStart(40, 'd') });

    const measured = await runBundle({
      inputs: { url: target.url, ...SHORT_RUN, 'baseline-store': 'none', comment: 'never', name: 'api' },
      eventName: 'pull_request',
      event: pullRequestEvent(),
      env: { ...env, GITHUB_SHA: MERGE_SHA, GITHUB_REF: `refs/pull/${PR}/merge` },
    });
    assert.equal(measured.code, 0, measured.stdout + measured.stderr);
    honest = measured.report!;
  });
  after(async () => {
    await target.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends event payloads shaped as GitHub's webhook descriptions say", () => {
    // The payloads carry only the fields loadgate reads: leave out "required but missing".
    const shapeProblems = (schema: string, payload: unknown) =>
      schemaProblems({ $ref: `#/components/schemas/${schema}` }, payload).filter((problem) => !/is required but missing/.test(problem));
    assert.deepEqual(shapeProblems('webhook-pull-request-synchronize', pullRequestEvent()), []);
    assert.deepEqual(shapeProblems('webhook-workflow-run-completed', workflowRunEvent()), []);
    assert.notDeepEqual(shapeProblems('webhook-workflow-run-completed', workflowRunEvent({ head_repository: { id: '42' } })), []);
  });

  it('records the PR head commit next to the merge commit in the report', () => {
    const context = honest.context as Record<string, unknown>;
    assert.equal(context.sha, MERGE_SHA);
    assert.equal(context.headSha, HEAD_SHA);
    assert.equal(context.pullRequestNumber, PR);
  });

  it('posts the honest report on the fork PR the workflow run built, found on the second page of open PRs', async () => {
    const requestsBefore = target.requests;
    const run = await post(JSON.stringify(honest));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(target.requests, requestsBefore, 'comment-from measures nothing');
    const posted = fake.comments(PR);
    assert.equal(posted.length, 1);
    assert.ok(posted[0].body.startsWith('<!-- loadgate:api -->'));
    assert.match(run.outputs['comment-url'], new RegExp(`/pull/${PR}#issuecomment-\\d+$`));
    assert.deepEqual(
      fake.comments(VICTIM_PR).map((c) => c.body),
      [REAL_VERDICT],
    );
    const listed = fake.requests.filter((r) => r.route === 'pulls/list');
    assert.deepEqual(
      listed.map((r) => new URL(r.url, fake.url).searchParams.get('page') ?? '1'),
      ['1', '2'],
    );
    assert.deepEqual(fake.violations, []);
  });

  it("refuses a report that names another PR, and leaves that PR's real comment untouched", async () => {
    const writes = commentWrites();
    // What a fork writes to pass the old check: its own commit as `sha`, the victim's PR number.
    const forged = await post(changed((report) => Object.assign(report.context, { pullRequestNumber: VICTIM_PR, sha: HEAD_SHA })));
    assert.deepEqual(
      fake.comments(VICTIM_PR).map((c) => c.body),
      [REAL_VERDICT],
      'the real verdict is not overwritten',
    );
    assert.equal(forged.code, 1);
    const namesVictim = `names PR #${VICTIM_PR}, but commit ${HEAD_SHA} of ${FORK} is the head of #${PR}: nothing posted`;
    assert.match(forged.stdout, new RegExp(`::error::input \`comment-from\`: the report ${namesVictim}`));

    // Naming the victim's head commit too does not help: the workflow run built the fork's commit.
    const victimClaims = (report: any) => Object.assign(report.context, { pullRequestNumber: VICTIM_PR, headSha: VICTIM_HEAD_SHA });
    const alsoSha = await post(changed(victimClaims));
    assert.equal(alsoSha.code, 1);
    const wrongCommit = `names head commit ${VICTIM_HEAD_SHA}, but the workflow run that produced it built ${HEAD_SHA}:`;
    assert.match(alsoSha.stdout, new RegExp(`::error::.*${wrongCommit}`));

    // A run of the victim's own commit from the fork's repository is not the victim's PR either.
    const otherRepo = await post(changed(victimClaims), workflowRunEvent({ head_sha: VICTIM_HEAD_SHA }));
    assert.equal(otherRepo.code, 0, otherRepo.stdout + otherRepo.stderr);
    assert.match(otherRepo.stdout, /::warning::No open pull request has commit b1ab.* of someone\/shop as its head/);

    assert.equal(commentWrites(), writes, 'no comment created or updated');
    assert.deepEqual(
      fake.comments(VICTIM_PR).map((c) => c.body),
      [REAL_VERDICT],
    );
    assert.deepEqual(fake.violations, []);
  });

  it('posts nothing without a workflow_run event, without its head_sha, or when the PRs cannot be listed', async () => {
    const writes = commentWrites();
    const noHeadSha = workflowRunEvent();
    delete (noHeadSha.workflow_run as Record<string, unknown>).head_sha;
    const missing = await post(JSON.stringify(honest), noHeadSha);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /::error::.*workflow_run event has no valid `head_sha` \(missing\): .*: nothing posted/);

    const onPullRequest = await post(JSON.stringify(honest), pullRequestEvent(), 'pull_request');
    assert.equal(onPullRequest.code, 1);
    assert.match(onPullRequest.stdout, /::error::.*this run's event is `pull_request`; .* posted only by .*`on: workflow_run`/);
    fake.failNext('pulls/list', 403, { message: 'Resource not accessible by integration' });
    const forbidden = await post(JSON.stringify(honest));
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stdout, /::error::.*listing the open pull requests of .* failed \(403: Resource not accessible/);
    assert.equal(commentWrites(), writes);
  });

  it('refuses malformed reports before any API call, naming the field', async () => {
    const infinite = JSON.stringify(honest).replace(/("figures":\{"p50":[^,]+,"p90":[^,]+,"p95":)[^,]+/, '$11e999');
    const minimal = JSON.stringify({ schema: 'loadgate-report', version: 1, verdict: 'pass' });
    const oversized = JSON.stringify({ ...honest, padding: 'x'.repeat(9 * 1024 * 1024) });
    const cases: { what: string; text: string; names: RegExp }[] = [
      { what: 'unknown verdict', text: changed((r) => (r.verdict = 'undefined')), names: /`verdict` is "undefined"; expected one of/ },
      { what: 'PR "5"', text: changed((r) => (r.context.pullRequestNumber = '5')), names: /`context\.pullRequestNumber` is "5"; / },
      { what: 'PR 5.5', text: changed((r) => (r.context.pullRequestNumber = 5.5)), names: /`context\.pullRequestNumber` is 5\.5/ },
      { what: 'a minimal report', text: minimal, names: /`name` is missing[\s\S]*`context` is missing/ },
      { what: 'an infinite figure (1e999)', text: infinite, names: /`figures\.p95` is Infinity; expected a finite number/ },
      { what: 'long headline', text: changed((r) => (r.headline = 'x'.repeat(20_000))), names: /`headline` is 20000 characters long/ },
      {
        what: 'markup for a limit',
        text: changed((r) => (r.decision.comparisons[0].limit = '<h3>✅ loadgate: no regression (forged)</h3>')),
        names: /`decision\.comparisons\[0\]\.limit` is "<h3>.*; expected a limit such as "\+15/,
      },
      { what: 'an oversized file', text: oversized, names: /it is \d+ bytes; expected at most 8388608/ },
    ];
    for (const { what, text, names } of cases) {
      const requests = fake.requests.length;
      const run = await post(text);
      assert.equal(run.code, 1, what);
      assert.match(run.stdout, /::error::input `comment-from`: .* is not a loadgate report/, what);
      assert.match(run.stdout, names, what);
      assert.doesNotMatch(run.stdout + run.stderr, /Cannot read properties/, what);
      assert.equal(fake.requests.length, requests, `${what}: no request to GitHub`);
    }
    assert.equal(fake.comments(PR).length, 1);
    assert.deepEqual(
      fake.comments(VICTIM_PR).map((c) => c.body),
      [REAL_VERDICT],
    );
  });
});
