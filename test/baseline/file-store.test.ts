import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileStore } from '../../src/baseline/file-store.ts';
import { appendRun, emptyDocument, HISTORY_CAP, loadSignatureDifferences, loadSignatureOf, type HistoryRun } from '../../src/baseline/history.ts';
import { parseInputs } from '../../src/config/parse.ts';
import { isDefaultBranchPush, parseRunContext } from '../../src/config/run-context.ts';

function run(i: number): HistoryRun {
  return {
    sha: `sha${i}`,
    ref: 'refs/heads/main',
    time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    config: { url: 'http://127.0.0.1/', method: 'GET', connections: 10, durationMs: 10_000, pipelining: 1, rate: null, bodySha256: null },
    healthy: true,
    bursts: [{ p50: 10 + i, p95: 20 + i, p99: 30, requestsPerSec: 900, errorRate: 0, ok: 9000 }],
    curve: [10, 12, 15, 20, 30, 40],
  };
}

describe('file store', { timeout: 10_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loadgate-store-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads a missing file as no history, then appends per key, newest last', async () => {
    const store = createFileStore(join(dir, 'nested', 'baseline.json'));
    assert.deepEqual(await store.read('api'), []);
    await store.append('api', run(1));
    await store.append('api', run(2));
    await store.append('checkout', run(3));
    assert.deepEqual((await store.read('api')).map((r) => r.sha), ['sha1', 'sha2']);
    assert.deepEqual((await store.read('checkout')).map((r) => r.sha), ['sha3']);
    const document = JSON.parse(await readFile(join(dir, 'nested', 'baseline.json'), 'utf8'));
    assert.equal(document.schema, 'loadgate-baseline');
    assert.equal(document.version, 1);
    assert.deepEqual(await readdir(join(dir, 'nested')), ['baseline.json'], 'no temp file left behind');
  });

  it('caps the history, dropping the oldest runs', () => {
    let document = emptyDocument();
    for (let i = 0; i < HISTORY_CAP + 5; i += 1) document = appendRun(document, 'api', run(i));
    assert.equal(document.histories.api.length, HISTORY_CAP);
    assert.equal(document.histories.api[0].sha, 'sha5');
  });

  const corrupt: [string, string, RegExp][] = [
    ['truncated JSON', '{"schema":"loadgate-baseline","vers', /not valid JSON \(corrupted or truncated\)/],
    ['another tool’s file', '{"benchmarks":[]}', /"schema" is not "loadgate-baseline"/],
    ['a future version', '{"schema":"loadgate-baseline","version":2,"histories":{}}', /version 2 is not supported/],
    ['a run without bursts', JSON.stringify({ schema: 'loadgate-baseline', version: 1, histories: { api: [{ ...run(1), bursts: [] }] } }), /histories\.api\[0\]\.bursts is empty/],
    ['a burst with a text figure', JSON.stringify({ schema: 'loadgate-baseline', version: 1, histories: { api: [{ ...run(1), bursts: [{ p50: 'fast' }] }] } }), /bursts\[0\] lacks numeric/],
  ];
  for (const [title, text, expected] of corrupt) {
    it(`refuses ${title} with a clear error and leaves the file untouched`, async () => {
      const path = join(dir, `${title.replace(/\W+/g, '-')}.json`);
      await writeFile(path, text);
      const store = createFileStore(path);
      await assert.rejects(store.read('api'), (error: Error) => {
        assert.match(error.message, expected);
        assert.match(error.message, /left untouched/);
        return true;
      });
      await assert.rejects(store.append('api', run(9)));
      assert.equal(await readFile(path, 'utf8'), text);
    });
  }
});

describe('config fingerprint', { timeout: 10_000 }, () => {
  it('names the settings that changed', () => {
    const settingsOf = (extra: Record<string, string>) => {
      const plan = parseInputs({ url: 'http://127.0.0.1:8080/', ...extra });
      assert.equal(plan.kind, 'measure');
      return plan.settings.load;
    };
    const before = loadSignatureOf(settingsOf({}));
    const after = loadSignatureOf(settingsOf({ connections: '20', body: '{"a":1}', method: 'POST' }));
    assert.deepEqual(loadSignatureDifferences(before, after), ['method GET → POST', 'connections 10 → 20', 'body changed']);
    assert.deepEqual(loadSignatureDifferences(before, loadSignatureOf(settingsOf({ bursts: '9', warmup: '1s' }))), [], 'bursts and warmup do not change what a latency means');
  });
});

describe('run context', { timeout: 10_000 }, () => {
  const env = { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '7' };
  it('records only on a push to the default branch from the event payload', () => {
    assert.equal(isDefaultBranchPush(parseRunContext(env, { repository: { default_branch: 'main' } })), true);
    assert.equal(isDefaultBranchPush(parseRunContext(env, { repository: { default_branch: 'trunk' } })), false);
    assert.equal(isDefaultBranchPush(parseRunContext({ ...env, GITHUB_EVENT_NAME: 'pull_request' }, { repository: { default_branch: 'main' } })), false);
    assert.equal(isDefaultBranchPush(parseRunContext(env, {})), false, 'no payload, no write');
  });

  it('finds the pull request and the run URL', () => {
    const context = parseRunContext({ ...env, GITHUB_EVENT_NAME: 'pull_request_target' }, { pull_request: { number: 12 } });
    assert.equal(context.pullRequestNumber, 12);
    assert.equal(context.runUrl, 'https://github.com/o/r/actions/runs/7');
  });
});
