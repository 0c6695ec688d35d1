import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { runBundle } from '../support/run-bundle.ts';

const PUSH_TO_MAIN = { ref: 'refs/heads/main', repository: { default_branch: 'main', full_name: 'octo-org/shop' } };
const PULL_REQUEST = {
  pull_request: { number: 7, head: { repo: { full_name: 'octo-org/shop' } }, base: { repo: { full_name: 'octo-org/shop' } } },
  repository: { default_branch: 'main', full_name: 'octo-org/shop' },
};

/** The lines of each `::group::` in a runner's stdout; fails on a group opened inside another or never closed. */
function groupsOf(stdout: string): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  let open: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('::group::')) {
      assert.equal(open, undefined, `group ${line} opened inside ${open}`);
      open = line.slice('::group::'.length);
      groups[open] = [];
    } else if (line === '::endgroup::') {
      assert.notEqual(open, undefined, 'a group closed that was not open');
      open = undefined;
    } else if (open !== undefined) groups[open].push(line);
  }
  assert.equal(open, undefined, `group ${open} never closed`);
  return groups;
}

describe('the bundle run like the runner runs it (Node 24, INPUT_* env, output files)', { timeout: 300_000 }, () => {
  let target: DemoTarget;
  let dir: string;
  let inputs: Record<string, string>;

  before(async () => {
    target = await startTarget({ delayMs: 20 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-bundle-'));
    inputs = {
      url: target.url,
      connections: '5',
      duration: '1s',
      bursts: '3',
      warmup: '500ms',
      'baseline-store': 'file',
      'baseline-path': join(dir, 'baseline.json'),
      comment: 'never',
      'github-token': 'ghs_secretTokenValue1234567890',
    };
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the baseline on a push to the default branch and passes', async () => {
    const run = await runBundle({ inputs, eventName: 'push', event: PUSH_TO_MAIN });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'pass');
    assert.ok(Math.abs(Number(run.outputs['median-ms']) - 20) < 3, `median-ms ${run.outputs['median-ms']}`);
    assert.equal(run.outputs['median-change'], '', 'no baseline yet, no change');
    assert.equal(run.report?.verdict, 'pass');
    const stored = JSON.parse(await readFile(join(dir, 'baseline.json'), 'utf8'));
    assert.equal(stored.schema, 'loadgate-baseline');
    assert.equal(stored.histories.loadgate.length, 1);
    assert.match(run.summary, /\| Metric\s+\| Baseline\s+\| This run/);
  });

  it('passes a pull request with the same latency and does not write the baseline', async () => {
    const before = await readFile(join(dir, 'baseline.json'), 'utf8');
    const run = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'pass');
    assert.ok(Math.abs(Number(run.outputs['median-change'])) < 10, `median-change ${run.outputs['median-change']}`);
    assert.equal(await readFile(join(dir, 'baseline.json'), 'utf8'), before, 'a PR run never writes');
    assert.match(run.stdout, /::notice::✅ loadgate: /);
  });

  it('fails a pull request that is 50 % slower, after confirming', async () => {
    target.behaviour = { delayMs: 30 };
    const run = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    target.behaviour = { delayMs: 20 };
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'regression');
    assert.ok(Number(run.outputs['median-change']) > 35, `median-change ${run.outputs['median-change']}`);
    assert.match(run.outputs['median-change'], /^\+\d+\.\d$/);
    assert.match(run.stdout, /::error::❌ loadgate: p50 \+\d+\.\d%25 over baseline/);
    assert.equal((run.report?.bursts as unknown[] | undefined)?.length, 6, 'three bursts, then three to confirm');
    assert.match(run.summary, /regression/);
    // The runner's log: each phase a group, each burst one line in its phase, in order.
    const groups = groupsOf(run.stdout);
    assert.deepEqual(Object.keys(groups), ['connect and host checks', 'warmup', 'bursts', 'confirmation', 'verdict', 'publishing']);
    const burstLines = groups.bursts.filter((line) => line.startsWith('burst '));
    assert.deepEqual(
      burstLines.map((line) => /^burst (\d)\/3: p50 \d+\.\d ms, p95 \d+\.\d ms, \d+ req\/s, 0 errors/.exec(line)?.[1]),
      ['1', '2', '3'],
      run.stdout,
    );
    const confirming = groups.confirmation.filter((line) => line.startsWith('confirming: '));
    assert.deepEqual(
      confirming.map((line) => /^confirming: burst (\d)\/3, about \d s left: p50 \d+\.\d ms/.exec(line)?.[1]),
      ['1', '2', '3'],
      run.stdout,
    );
  });

  it('turns the regression into a warning with fail-on-regression: false', async () => {
    target.behaviour = { delayMs: 30 };
    const run = await runBundle({ inputs: { ...inputs, 'fail-on-regression': 'false' }, eventName: 'pull_request', event: PULL_REQUEST });
    target.behaviour = { delayMs: 20 };
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'regression');
    assert.match(run.stdout, /::warning::❌ loadgate: /);
  });

  it('is inconclusive, not failing, when a setting changed since the baseline, and says which', async () => {
    const run = await runBundle({ inputs: { ...inputs, connections: '8' }, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'inconclusive');
    assert.match(run.stdout, /::warning::⚠️ loadgate: .*connections 5 → 8/);
    assert.equal((run.report?.bursts as unknown[] | undefined)?.length, 3, 'nothing to confirm against a baseline it cannot use');
  });

  it('fails with an error naming the input before sending any request', async () => {
    const before = target.requests;
    const run = await runBundle({ inputs: { ...inputs, bursts: 'many', duration: '0' }, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /::error::Invalid input:%0A {2}- input `duration`: got "0"/);
    assert.match(run.stdout, /input `bursts`: got "many"; expected a whole number from 1 to 100/);
    assert.equal(target.requests, before, 'no HTTP traffic');
    assert.doesNotMatch(run.stdout + run.stderr, /Error: .*\n\s+at /, 'no stack trace');
  });

  it('refuses a url it cannot use without printing its password anywhere but ::add-mask:: (issue 25)', async () => {
    const before = target.requests;
    const urls = {
      url: 'https://deploy:hunter2/xyz@staging.example.com/api',
      'baseline-url': target.url.replace('http://', 'http://deploy:hun%zzter2@'),
    };
    const run = await runBundle({ inputs: { ...inputs, ...urls }, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /::error::Invalid input:.*input `url`: got "https:\/\/\*\*\*@staging\.example\.com\/api"; expected an absolute/,
    );
    assert.match(run.stdout, /input `baseline-url`: got "http:\/\/\*\*\*@127\.0\.0\.1:\d+\/"; expected an absolute/);
    assert.match(run.summary, /input `url`: got "https:\/\/\*\*\*@staging\.example\.com\/api"/);
    // The runner unescapes `%25` in a command back to `%`.
    for (const password of ['hunter2/xyz', 'hun%25zzter2']) assert.ok(run.stdout.includes(`\n::add-mask::${password}\n`), password);
    const shown = `${run.stdout.replace(/^::add-mask::.*$/gm, '')}${run.stderr}${run.summary}`;
    assert.doesNotMatch(shown, /hunter2|hun%(25)?zz/);
    assert.equal(target.requests, before, 'no HTTP traffic');
  });

  it('refuses values that used to be accepted and misbehave, all at once, before any request (issue 13)', async () => {
    const before = target.requests;
    const bad = {
      duration: '0.4ms',
      rate: '0.5',
      headers: 'X-Trace: a\rInjected: 1',
      'p95-budget': '0.0001ms',
      'swap-path': '/var/',
      'baseline-path': `${dir}/`,
      'baseline-branch': '-x',
    };
    const run = await runBundle({ inputs: { ...inputs, ...bad }, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 1);
    for (const name of [...Object.keys(bad)]) assert.match(run.stdout, new RegExp(`::error::Invalid input:.*input \`${name}\``), name);
    assert.match(run.summary, /^### 💥 loadgate did not run\n\n```text\nInvalid input:\n {2}- input `/, 'the summary says why, fenced');
    assert.equal(target.requests, before, 'no HTTP traffic');
    assert.doesNotMatch(run.stdout + run.stderr, /Error: .*\n\s+at /, 'no stack trace');
  });

  it('warns, and still runs, when SSH settings are given without a host', async () => {
    const withoutHost = { ...inputs, username: 'deploy', port: '2222' };
    const run = await runBundle({ inputs: withoutHost, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /::warning::loadgate: `port`, `username` set but `host` is empty: ignored, no host is watched \(a fork's pull request gets empty secrets/,
    );
  });

  it('names baseline-path when it is a directory, before any request', async () => {
    const before = target.requests;
    const run = await runBundle({ inputs: { ...inputs, 'baseline-path': dir }, eventName: 'push', event: PUSH_TO_MAIN });
    assert.equal(run.code, 1);
    assert.equal(run.outputs.verdict, 'error');
    assert.ok(run.stdout.includes(`input \`baseline-path\`: ${dir} is a directory; expected the path of a file`), run.stdout);
    assert.equal(target.requests, before, 'no HTTP traffic');
  });

  it('records and reads a baseline-key named like an Object.prototype member', async () => {
    for (const key of ['constructor', '__proto__']) {
      const run = await runBundle({ inputs: { ...inputs, 'baseline-key': key }, eventName: 'push', event: PUSH_TO_MAIN });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(run.outputs.verdict, 'pass', key);
    }
    const stored = JSON.parse(await readFile(join(dir, 'baseline.json'), 'utf8'));
    assert.equal(Object.hasOwn(stored.histories, 'constructor') && Object.hasOwn(stored.histories, '__proto__'), true);
  });

  it('leaves a baseline file that is not ours untouched and says so', async () => {
    const foreign = join(dir, 'foreign.json');
    await writeFile(foreign, '{"name":"something else"}');
    const run = await runBundle({ inputs: { ...inputs, 'baseline-path': foreign }, eventName: 'push', event: PUSH_TO_MAIN });
    assert.equal(run.code, 1);
    assert.equal(run.outputs.verdict, 'error');
    assert.match(run.stdout, /is not a loadgate baseline: "schema" is not "loadgate-baseline"/);
    assert.equal(await readFile(foreign, 'utf8'), '{"name":"something else"}');
  });

  it('never prints the token', async () => {
    const run = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    assert.match(run.stdout, /::add-mask::ghs_secretTokenValue1234567890/, 'masked for the runner');
    // The add-mask command is the one place the runner must see it (and it never displays it).
    const shown = `${run.stdout.replace(/^::add-mask::.*$/gm, '')}${run.stderr}${run.summary}${JSON.stringify(run.report)}`;
    assert.ok(!shown.includes('ghs_secretTokenValue1234567890'));
  });

  it('a closed port at the default load is an error before any burst: exit 1, the cause in the annotation and the summary (issue 27)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const defaults = {
      ...inputs,
      url: `http://127.0.0.1:${port}/api/items`,
      connections: '10',
      duration: '10s',
      bursts: '5',
      warmup: '5s',
    };
    const run = await runBundle({ inputs: defaults, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'error');
    const cause = `every request to http://127.0.0.1:${port}/api/items was refused: nothing is listening on 127.0.0.1:${port}. Did the deploy start the service?`;
    assert.ok(run.stdout.includes(`::error::💥 loadgate: ${cause}`), run.stdout);
    assert.ok(run.summary.includes('Did the deploy start the service?'), run.summary);
    assert.deepEqual(run.report?.bursts, []);
  });
});
