import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { baselineFilePath } from '../../src/baseline/branch-store.ts';
import { parseDocument } from '../../src/baseline/history.ts';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { GitHubFake } from '../support/github-fake.ts';
import { runBundle, SHORT_RUN } from '../support/run-bundle.ts';

const PR = 7;

describe('the bundle with the branch store and the PR comment over real HTTP', { timeout: 300_000 }, () => {
  let fake: GitHubFake;
  let target: DemoTarget;
  let inputs: Record<string, string>;
  let env: Record<string, string>;
  const repository = () => ({ default_branch: 'main', full_name: `${fake.owner}/${fake.repo}` });
  const pullRequest = (fork = false) => ({
    pull_request: {
      number: PR,
      head: { repo: { full_name: fork ? 'someone/shop' : `${fake.owner}/${fake.repo}` } },
      base: { repo: { full_name: `${fake.owner}/${fake.repo}` } },
    },
    repository: repository(),
  });

  before(async () => {
    fake = await GitHubFake.start();
    target = await startTarget({ delayMs: 10 });
    inputs = {
      url: target.url,
      ...SHORT_RUN,
      'baseline-store': 'branch',
      'github-token': fake.token,
      name: 'api',
      // These tests are about the comment and the store: limits far from a busy machine's noise,
      // and a slowdown (10 → 40 ms) far beyond them.
      'max-median-increase': '100%',
      'max-p95-increase': '1000%',
    };
    env = { GITHUB_API_URL: fake.url, GITHUB_REPOSITORY: `${fake.owner}/${fake.repo}` };
  });
  after(async () => {
    await target.close();
    await fake.close();
  });

  it('records the baseline on the branch on a push to main', async () => {
    const run = await runBundle({ inputs, eventName: 'push', event: { ref: 'refs/heads/main', repository: repository() }, env });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.ok(fake.branchExists('loadgate-baseline'));
    const stored = parseDocument(fake.fileText('loadgate-baseline', baselineFilePath('api'))!, 'branch');
    assert.equal(stored.histories.api.length, 1);
    assert.equal(run.outputs['comment-url'], '', 'a push has no PR to comment on');
    assert.match(run.stdout, /No pull request in this push run: no comment posted/);
    assert.deepEqual(fake.violations, []);
  });

  it('creates one comment on the first PR run and updates it in place on the second', async () => {
    const first = await runBundle({ inputs, eventName: 'pull_request', event: pullRequest(), env });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.outputs['comment-url'], /^https:\/\/github\.com\/.+\/pull\/7#issuecomment-\d+$/);
    assert.equal(fake.comments(PR).length, 1);
    const body = fake.comments(PR)[0].body;
    assert.ok(body.startsWith('<!-- loadgate:api -->'));
    assert.match(body, /### ✅ api: no regression/);
    assert.match(body, /\| Metric +\| +Baseline +\| +This PR +\|(?: +Other measure +\|)? +Change +\| +Limit +\| +Status +\|/);
    assert.match(body, /```mermaid\n[\s\S]*xychart-beta[\s\S]*line "baseline"[\s\S]*line "this PR"/);

    target.behaviour = { delayMs: 40 };
    const second = await runBundle({ inputs, eventName: 'pull_request', event: pullRequest(), env });
    target.behaviour = { delayMs: 10 };
    assert.equal(second.code, 1);
    assert.equal(fake.comments(PR).length, 1, 'updated, not appended');
    assert.equal(second.outputs['comment-url'], first.outputs['comment-url']);
    assert.match(fake.comments(PR)[0].body, /### ❌ api: p50 \+\d+\.\d% over baseline/);
    const stored = parseDocument(fake.fileText('loadgate-baseline', baselineFilePath('api'))!, 'branch');
    assert.equal(stored.histories.api.length, 1, 'PR runs never write the baseline');
    assert.deepEqual(fake.violations, []);
  });

  it('keeps the credentials of a url out of the log, outputs, summary, report, baseline branch and comment', async () => {
    const password = 'hunter2pass';
    const apiKey = 'SECRETKEY123';
    const url = target.url.replace('http://', `http://deploy:${password}@`).replace(/\/$/, `/x?api_key=${apiKey}`);
    const secretInputs = { ...inputs, url, name: 'secret-url' };
    const push = await runBundle({
      inputs: secretInputs,
      eventName: 'push',
      event: { ref: 'refs/heads/main', repository: repository() },
      env,
    });
    assert.equal(push.code, 0, push.stdout + push.stderr);
    const pr = await runBundle({ inputs: secretInputs, eventName: 'pull_request', event: pullRequest(), env });
    assert.equal(pr.code, 0, pr.stdout + pr.stderr);
    const comment = fake.comments(PR).find((c) => c.body.includes('<!-- loadgate:secret-url -->'));
    assert.ok(comment, 'the PR run commented');
    const baseline = fake.fileText('loadgate-baseline', baselineFilePath('secret-url'))!;
    assert.equal(parseDocument(baseline, 'branch').histories['secret-url'].length, 1);
    for (const run of [push, pr]) {
      assert.match(run.stdout, new RegExp(`^::add-mask::${apiKey}$`, 'm'), 'masked for the runner');
      assert.match(run.stdout, new RegExp(`^::add-mask::${password}$`, 'm'), 'masked for the runner');
    }
    const places = {
      stdout: [push, pr].map((run) => run.stdout.replace(/^::add-mask::.*$/gm, '')).join('\n'),
      stderr: push.stderr + pr.stderr,
      outputs: JSON.stringify([push.outputs, pr.outputs]),
      summary: push.summary + pr.summary,
      report: JSON.stringify([push.report, pr.report]),
      baseline,
      comment: comment.body,
    };
    for (const [place, text] of Object.entries(places)) {
      assert.ok(!text.includes(apiKey) && !text.includes(password) && !text.includes('deploy:'), `${place} shows a credential`);
    }
    assert.match(places.stdout, /warming up http:\/\/\*\*\*@127\.0\.0\.1:\d+\/x\?api_key=\*\*\* for/);
    assert.match(comment.body, /`GET http:\/\/\*\*\*@127\.0\.0\.1:\d+\/x\?api_key=\*\*\*`/);
    assert.deepEqual(fake.violations, []);
  });

  it('keeps the verdict and warns with the fork pattern when the token may not comment', async () => {
    fake.failNext('issues/create-comment', 403, { message: 'Resource not accessible by integration' });
    const run = await runBundle({ inputs: { ...inputs, name: 'fork-gate' }, eventName: 'pull_request', event: pullRequest(true), env });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'pass');
    assert.match(run.stdout, /::warning::.*read-only token.*comment-from/);
  });
});
