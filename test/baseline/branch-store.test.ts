// The branch store against the local GitHub fake: the history a later run reads back, the branch
// it creates, and runs that finish together without losing one.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { baselineFilePath, createBranchStore } from '../../src/baseline/branch-store.ts';
import {
  appendRun,
  emptyDocument,
  HISTORY_BYTE_CAP,
  parseDocument,
  serializeDocument,
  type HistoryRun,
} from '../../src/baseline/history.ts';
import { parseInputs } from '../../src/config/parse.ts';
import { parseRunContext } from '../../src/config/run-context.ts';
import { startTarget } from '../../src/demo/target.ts';
import { createGitHubClient } from '../../src/github/client.ts';
import { silentLog, type Log } from '../../src/log.ts';
import { runGate } from '../../src/pipeline.ts';
import { captureLog } from '../support/capture-log.ts';
import { GitHubFake } from '../support/github-fake.ts';

const BRANCH = 'loadgate-baseline';

function storedRun(sha: string, p95 = 20): HistoryRun {
  return {
    sha,
    ref: 'refs/heads/main',
    time: '2025-01-01T00:00:00Z',
    config: {
      url: 'http://127.0.0.1:8080/',
      method: 'GET',
      connections: 10,
      durationMs: 10_000,
      pipelining: 1,
      rate: null,
      bodySha256: null,
    },
    healthy: true,
    bursts: [{ p50: 10, p95, p99: p95 + 10, requestsPerSec: 900, errorRate: 0, ok: 9000 }],
    curve: [10, 11, 12, 13, 15, 20],
  };
}

/** A run of `bursts: 100` (the most `bursts` accepts), figures at the precision the history keeps. */
function bigRun(sha: string): HistoryRun {
  const bursts = Array.from({ length: 100 }, (_, i) => ({
    p50: 10.123 + i / 1000,
    p95: 20.456,
    p99: 30.789,
    requestsPerSec: 912.3,
    errorRate: 0.0001234,
    ok: 9123,
  }));
  return { ...storedRun(sha), bursts };
}

/** What the contents API inlines; past it, GitHub answers `encoding: none` with no content. */
const CONTENTS_INLINE_LIMIT = 1024 * 1024;

describe('branch store against the GitHub fake', { timeout: 60_000 }, () => {
  let fake: GitHubFake;
  let lines: string[];
  const log: Log = { ...silentLog, info: (m) => lines.push(`info: ${m}`), warning: (m) => lines.push(`warning: ${m}`) };
  const store = (maxAttempts?: number, branch = BRANCH) =>
    createBranchStore({
      github: createGitHubClient({ token: fake.token, apiUrl: fake.url, log, retryBaseDelayMs: 5 }),
      owner: 'acme',
      repo: 'shop',
      branch,
      log,
      maxAttempts,
    });
  const writes = () => fake.requests.filter((r) => r.method !== 'GET').length;
  const shas = (key: string) => parseDocument(fake.fileText(BRANCH, baselineFilePath(key))!, 'test').histories[key].map((run) => run.sha);

  beforeEach(async () => {
    fake = await GitHubFake.start();
    lines = [];
  });
  afterEach(async () => {
    await fake.close();
  });

  test('a missing branch reads as no baseline; the first append creates it as an orphan branch', async () => {
    const branchStore = store();
    assert.equal(branchStore.location, `branch ${BRANCH}`);
    assert.deepEqual(await branchStore.read('api'), []);
    assert.equal(fake.branchExists(BRANCH), false, 'reading never creates the branch');

    await branchStore.append('api', storedRun('a1'));
    assert.equal(fake.branchExists(BRANCH), true);
    assert.deepEqual(
      fake.branchHistory(BRANCH),
      ['loadgate: record a1 for api', 'loadgate: start the baseline branch'],
      'no commit of main is on it',
    );
    assert.equal(fake.fileText(BRANCH, 'README.md')?.startsWith('# loadgate baseline'), true);
    assert.equal(fake.fileText('main', 'loadgate/api.json'), undefined, 'the default branch is untouched');
    assert.deepEqual(await branchStore.read('api'), [storedRun('a1')]);
    assert.ok(lines.includes(`info: Created branch ${BRANCH} for the loadgate baseline.`));
    assert.deepEqual(fake.violations, []);
  });

  test('appends and reads back in order, one file per key, the file a valid baseline document', async () => {
    const branchStore = store();
    await branchStore.append('api', storedRun('a1', 20));
    await branchStore.append('api', storedRun('a2', 21));
    await branchStore.append('checkout flow/p95', storedRun('c1', 90));
    assert.deepEqual(
      (await branchStore.read('api')).map((run) => [run.sha, run.bursts[0].p95]),
      [
        ['a1', 20],
        ['a2', 21],
      ],
    );
    assert.deepEqual(
      (await branchStore.read('checkout flow/p95')).map((run) => run.sha),
      ['c1'],
    );
    assert.deepEqual(await branchStore.read('other'), []);
    assert.equal(baselineFilePath('api'), 'loadgate/api.json');
    assert.match(baselineFilePath('checkout flow/p95'), /^loadgate\/checkout-flow-p95-[0-9a-f]{8}\.json$/);
    assert.notEqual(baselineFilePath('a/b'), baselineFilePath('a-b'), 'distinct keys never share a file');
    const document = parseDocument(fake.fileText(BRANCH, 'loadgate/api.json')!, 'test');
    assert.deepEqual(Object.keys(document.histories), ['api']);
    assert.equal(fake.requests.filter((r) => r.route === 'git/create-ref').length, 1, 'the branch is created once');
    assert.deepEqual(fake.violations, []);
  });

  test('keeps at most 100 runs per key', async () => {
    const full = Array.from({ length: 100 }, (_, i) => storedRun(`old${i}`)).reduce(
      (doc, run) => appendRun(doc, 'api', run),
      emptyDocument(),
    );
    const branchStore = store();
    await branchStore.append('api', storedRun('seed'));
    fake.conflictOnNextPut(() => serializeDocument(full));
    await branchStore.append('api', storedRun('new'));
    const kept = shas('api');
    assert.equal(kept.length, 100);
    assert.equal(kept[0], 'old1');
    assert.equal(kept[99], 'new');
    assert.deepEqual(fake.violations, []);
  });

  test('runs of 100 bursts appended past the 1 MB the old count cap reached: every append works, oldest dropped by size', async () => {
    const branchStore = store();
    const appended = Array.from({ length: 90 }, (_, i) => bigRun(`big${i}`));
    // The precondition of the bug: 90 such runs (fewer than the 100-run cap) would pass 1 MB.
    assert.ok(Buffer.byteLength(serializeDocument({ ...emptyDocument(), histories: { api: appended } })) > CONTENTS_INLINE_LIMIT);
    const seeded = appended.slice(0, 60).reduce((doc, run) => appendRun(doc, 'api', run), emptyDocument());
    fake.writeFile(BRANCH, 'loadgate/api.json', serializeDocument(seeded));
    for (const run of appended.slice(60)) {
      await branchStore.append('api', run);
      const bytes = Buffer.byteLength(fake.fileText(BRANCH, 'loadgate/api.json')!);
      assert.ok(bytes <= HISTORY_BYTE_CAP, `the file stays under the cap after ${run.sha}: ${bytes} bytes`);
    }
    const kept = shas('api');
    assert.ok(kept.length < 90 && kept.length >= 50, `kept ${kept.length} runs`);
    assert.deepEqual(
      kept,
      appended.slice(-kept.length).map((run) => run.sha),
      'the newest runs, oldest dropped',
    );
    assert.equal((await branchStore.read('api')).length, kept.length);
    assert.equal(fake.requests.filter((r) => r.route === 'git/get-blob').length, 0, 'never past the inline limit: no blob reads needed');
    assert.deepEqual(fake.violations, []);
  });

  test('a file past 1 MB written by an older version is read through the blobs API and rewritten under the cap', async () => {
    const old = { ...emptyDocument(), histories: { api: Array.from({ length: 100 }, (_, i) => bigRun(`old${i}`)) } };
    const text = serializeDocument(old);
    assert.ok(Buffer.byteLength(text) > CONTENTS_INLINE_LIMIT, `${Buffer.byteLength(text)} bytes`);
    fake.writeFile(BRANCH, 'loadgate/api.json', text);
    const branchStore = store();

    assert.deepEqual(
      (await branchStore.read('api')).map((run) => run.sha),
      old.histories.api.map((run) => run.sha),
    );
    const contents = fake.requests.find((r) => r.route === 'repos/get-content')!.response as { encoding: string };
    assert.equal(contents.encoding, 'none', 'the contents API did not inline it');
    assert.equal(fake.requests.filter((r) => r.route === 'git/get-blob' && r.status === 200).length, 1);

    await branchStore.append('api', bigRun('new'));
    const rewritten = fake.fileText(BRANCH, 'loadgate/api.json')!;
    assert.ok(Buffer.byteLength(rewritten) <= HISTORY_BYTE_CAP, `${Buffer.byteLength(rewritten)} bytes`);
    const kept = shas('api');
    assert.equal(kept.at(-1), 'new');
    assert.deepEqual(
      kept.slice(0, -1),
      old.histories.api.slice(-(kept.length - 1)).map((run) => run.sha),
      'the oldest runs dropped',
    );
    assert.ok(!lines.some((line) => /delete|remove/i.test(line)), lines.join('\n'));
    assert.deepEqual(fake.violations, []);
  });

  test('a forced sha conflict is retried and both runs are kept', async () => {
    const branchStore = store();
    await branchStore.append('api', storedRun('a1'));
    // Another default-branch run records `other` between our read and our write.
    fake.conflictOnNextPut((current) => serializeDocument(appendRun(parseDocument(current!, 'test'), 'api', storedRun('other'))));
    await branchStore.append('api', storedRun('a2'));
    assert.deepEqual(shas('api'), ['a1', 'other', 'a2']);
    const puts = fake.requests.filter((r) => r.route === 'repos/create-or-update-file-contents').map((r) => r.status);
    assert.deepEqual(puts, [201, 409, 200]);
    assert.ok(
      lines.some((line) =>
        /Another run wrote loadgate\/api\.json on branch loadgate-baseline of acme\/shop first; re-reading and appending again \(attempt 1\/5\)/.test(
          line,
        ),
      ),
    );
    assert.deepEqual(fake.violations, []);
  });

  test('a file created by another run between our read and our write (422, no sha) is retried too', async () => {
    const branchStore = store();
    await branchStore.append('other-key', storedRun('x')); // the branch exists, api.json does not
    fake.conflictOnNextPut(() => serializeDocument(appendRun(emptyDocument(), 'api', storedRun('first'))));
    await branchStore.append('api', storedRun('second'));
    assert.deepEqual(shas('api'), ['first', 'second']);
    assert.deepEqual(fake.violations, []);
  });

  test('two runs appending concurrently both land', async () => {
    const [first, second] = [store(), store()];
    await first.append('api', storedRun('base'));
    await Promise.all([
      first.append('api', storedRun('run-a')),
      second.append('api', storedRun('run-b')),
      first.append('api', storedRun('run-c')),
    ]);
    assert.deepEqual(shas('api').sort(), ['base', 'run-a', 'run-b', 'run-c']);
    assert.deepEqual(fake.violations, []);
  });

  test('two runs on a repository without the branch yet both land (branch created once)', async () => {
    await Promise.all([store().append('api', storedRun('run-a')), store().append('api', storedRun('run-b'))]);
    assert.deepEqual(shas('api').sort(), ['run-a', 'run-b']);
    assert.equal(fake.requests.filter((r) => r.route === 'git/create-ref' && r.status === 201).length, 1);
    assert.deepEqual(fake.violations, []);
  });

  test('gives up after the bounded attempts when other writers never stop', async () => {
    const branchStore = store(2);
    await branchStore.append('api', storedRun('a1'));
    const busy = (current: string | undefined) => serializeDocument(appendRun(parseDocument(current!, 'test'), 'api', storedRun('busy')));
    fake.conflictOnNextPut(busy, 2);
    await assert.rejects(
      branchStore.append('api', storedRun('mine')),
      /Could not record this run in loadgate\/api\.json on branch loadgate-baseline of acme\/shop: other runs kept writing it \(2 attempts\)/,
    );
    assert.deepEqual(shas('api'), ['a1', 'busy', 'busy']);
    assert.deepEqual(fake.violations, []);
  });

  test('a read-only token (403 on write) is an error naming contents: write; reading still works', async () => {
    const branchStore = store();
    await branchStore.append('api', storedRun('a1'));
    fake.failNext('repos/create-or-update-file-contents', 403, { message: 'Resource not accessible by integration' });
    await assert.rejects(
      branchStore.append('api', storedRun('a2')),
      (error: Error) =>
        error.message.startsWith(
          'Writing the baseline on branch loadgate-baseline of acme/shop was refused (403: Resource not accessible by integration)',
        ) &&
        error.message.includes('`permissions: contents: write`') &&
        !error.message.includes(fake.token),
    );
    assert.deepEqual(
      (await branchStore.read('api')).map((run) => run.sha),
      ['a1'],
    );
    assert.deepEqual(fake.violations, []);
  });

  test('a read-only token on a repository without the branch: creating it names contents: write', async () => {
    fake.failNext('git/create-tree', 403, { message: 'Resource not accessible by integration' });
    await assert.rejects(
      store().append('api', storedRun('a1')),
      /Creating the branch for the baseline on branch loadgate-baseline of acme\/shop was refused \(403: Resource not accessible by integration\): the job needs `permissions: contents: write`/,
    );
    assert.equal(fake.branchExists(BRANCH), false);
    assert.deepEqual(fake.violations, []);
  });

  test('a corrupted file on the branch is reported, not overwritten', async () => {
    const branchStore = store();
    await branchStore.append('api', storedRun('a1'));
    fake.conflictOnNextPut(() => '{ "schema": "loadgate-baseline", "version": 1, "histories": ');
    await assert.rejects(
      branchStore.append('api', storedRun('a2')),
      /loadgate\/api\.json on branch loadgate-baseline of acme\/shop is not a loadgate baseline: it is not valid JSON/,
    );
    assert.equal(fake.fileText(BRANCH, 'loadgate/api.json'), '{ "schema": "loadgate-baseline", "version": 1, "histories": ');
    await assert.rejects(branchStore.read('api'), /is not a loadgate baseline/);
    assert.deepEqual(fake.violations, []);
  });

  test('the default branch as baseline-branch is refused before reading or writing, naming it; main is untouched', async () => {
    const mainStore = store(undefined, 'main');
    const refusal =
      'input `baseline-branch`: main is the default branch of acme/shop, and loadgate commits its history there: ' +
      'it must be a branch of its own, such as `loadgate-baseline` (the default), which loadgate creates as an orphan branch.';
    await assert.rejects(mainStore.read('api'), { message: refusal });
    await assert.rejects(mainStore.append('api', storedRun('a1')), { message: refusal });
    assert.deepEqual(fake.branchHistory('main'), ['Initial commit']);
    assert.equal(writes(), 0);
    assert.equal(fake.requests.filter((r) => r.route === 'repos/get-content').length, 0);
    assert.deepEqual(fake.violations, []);
  });

  test('a branch holding files loadgate does not write is refused, naming them; one with its README and histories is not', async () => {
    for (const file of ['src/app.ts', 'src/db.ts', 'package.json', 'tsconfig.json']) fake.writeFile('main', file, 'code\n');
    fake.createBranch('develop');
    await assert.rejects(store(undefined, 'develop').append('api', storedRun('a1')), {
      message:
        'input `baseline-branch`: develop of acme/shop holds files loadgate does not write ("README.md", "package.json", "src/app.ts", and 2 more), ' +
        'and loadgate commits its history there: it must be a branch of its own, such as `loadgate-baseline` (the default), ' +
        'which loadgate creates as an orphan branch holding only its README.md and loadgate/*.json.',
    });
    assert.equal(writes(), 0);
    assert.equal(fake.branchHistory('develop').length, 5, 'develop is untouched');

    // Its own branch, whoever committed there (a user who removed a key's file, an older loadgate), is accepted.
    await store().append('api', storedRun('a1'));
    fake.writeFile(BRANCH, 'loadgate/checkout.json', serializeDocument(appendRun(emptyDocument(), 'checkout', storedRun('c1'))));
    await store().append('api', storedRun('a2'));
    assert.deepEqual(shas('api'), ['a1', 'a2']);
    // The same README edited by hand is no longer loadgate's.
    fake.writeFile(BRANCH, 'README.md', '# notes\n');
    await assert.rejects(store().read('api'), /holds files loadgate does not write \("README\.md"\)/);
    assert.deepEqual(fake.violations, []);
  });

  test('baseline-branch: main in a push run on the default branch is an error before any load, and main gets no commit', async () => {
    const service = await startTarget({ delayMs: 5 });
    try {
      const plan = parseInputs({
        url: service.url,
        duration: '1s',
        bursts: '2',
        warmup: '0s',
        connections: '2',
        'baseline-branch': 'main',
        'github-token': fake.token,
      });
      assert.ok(plan.kind === 'measure');
      const context = parseRunContext(
        { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'acme/shop', GITHUB_API_URL: fake.url },
        { repository: { default_branch: 'main' } },
      );
      const report = await runGate(plan.settings, context, captureLog());
      assert.equal(report.verdict, 'error', report.headline);
      assert.match(report.error ?? '', /^input `baseline-branch`: main is the default branch of acme\/shop/);
      assert.equal(service.requests, 0, 'no load was sent');
      assert.deepEqual(fake.branchHistory('main'), ['Initial commit']);
      assert.deepEqual(fake.violations, []);
    } finally {
      await service.close();
    }
  });

  test('a file holding two keys (1.6 MB) is rewritten with every key capped: the whole file within the cap', async () => {
    const twoKeys = {
      ...emptyDocument(),
      histories: {
        api: Array.from({ length: 50 }, (_, i) => bigRun(`api${i}`)),
        web: Array.from({ length: 50 }, (_, i) => bigRun(`web${i}`)),
      },
    };
    const text = serializeDocument(twoKeys);
    assert.ok(Buffer.byteLength(text) > 1.5e6, `${Buffer.byteLength(text)} bytes`);
    fake.writeFile(BRANCH, 'loadgate/api.json', text);
    await store().append('api', bigRun('new'));
    const rewritten = fake.fileText(BRANCH, 'loadgate/api.json')!;
    assert.ok(Buffer.byteLength(rewritten) <= HISTORY_BYTE_CAP, `${Buffer.byteLength(rewritten)} bytes`);
    const document = parseDocument(rewritten, 'test');
    const api = document.histories.api.map((run) => run.sha);
    const web = document.histories.web.map((run) => run.sha);
    assert.equal(api.at(-1), 'new');
    assert.deepEqual(
      web,
      twoKeys.histories.web.slice(-web.length).map((run) => run.sha),
      'the newest runs of the other key, oldest dropped',
    );
    assert.ok(web.length >= 20 && api.length >= 20, `kept ${api.length} and ${web.length} runs`);
    assert.deepEqual(fake.violations, []);
  });

  test('5xx answers while reading and writing are retried', async () => {
    const branchStore = store();
    fake.failNext('repos/get-content', 502);
    fake.failNext('repos/create-or-update-file-contents', 500);
    await branchStore.append('api', storedRun('a1'));
    assert.deepEqual(shas('api'), ['a1']);
    assert.deepEqual(fake.violations, []);
  });
});
