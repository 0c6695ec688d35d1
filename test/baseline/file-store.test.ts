import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileStore } from '../../src/baseline/file-store.ts';
import { captureLog } from '../support/capture-log.ts';
import {
  appendRun,
  emptyDocument,
  HISTORY_BYTE_CAP,
  HISTORY_CAP,
  historyBytes,
  loadSignatureDifferences,
  loadSignatureOf,
  parseDocument,
  serializeDocument,
  type HistoryRun,
} from '../../src/baseline/history.ts';
import { parseInputs } from '../../src/config/parse.ts';
import { isDefaultBranchPush, parseRunContext } from '../../src/config/run-context.ts';

function run(i: number): HistoryRun {
  return {
    sha: `sha${i}`,
    ref: 'refs/heads/main',
    time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    config: { url: 'http://127.0.0.1/', method: 'GET', connections: 10, durationMs: 10_000, pipelining: 1, rate: null, bodySha256: null },
    healthy: true,
    bursts: [{ p50: 10 + i, p95: 20 + i, p99: 30 + i, requestsPerSec: 900, errorRate: 0, ok: 9000 }],
    curve: [10, 12, 15, 20, 30, 40],
  };
}

/** A run of `bursts: 100`, the most `bursts` accepts: about 16 KB of history. */
function bigRun(i: number): HistoryRun {
  const burst = { p50: 10.123, p95: 20.456, p99: 30.789, requestsPerSec: 912.3, errorRate: 0.0001234, ok: 9123 };
  return { ...run(i), bursts: Array.from({ length: 100 }, () => burst) };
}

/** Starts `count` writer processes, waits until each has loaded, then lets them all append at once. */
async function appendFromProcesses(path: string, count: number, runsEach: number): Promise<void> {
  const writer = join(import.meta.dirname, 'file-store-writer.ts');
  const children = Array.from({ length: count }, (_, p) => {
    const shas = Array.from({ length: runsEach }, (_, r) => `p${p}r${r}`);
    const argument = JSON.stringify({ path, key: 'api', shas });
    return spawn(process.execPath, ['--import', 'tsx', writer, argument], { stdio: ['pipe', 'pipe', 'inherit'] });
  });
  const exits = children.map((child) => new Promise<number | null>((done) => child.once('exit', done)));
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((ready, fail) => {
          child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && ready());
          child.once('exit', (code) => fail(new Error(`a writer exited before it was ready (${code})`)));
        }),
    ),
  );
  for (const child of children) child.stdin.write('go\n');
  assert.deepEqual(
    await Promise.all(exits),
    children.map(() => 0),
    'every writer succeeded',
  );
}

describe('file store', { timeout: 60_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loadgate-store-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads a missing file as no history, then appends per key, newest last', async () => {
    const store = createFileStore(join(dir, 'nested', 'baseline.json'), captureLog());
    assert.deepEqual(await store.read('api'), []);
    await store.append('api', run(1));
    await store.append('api', run(2));
    await store.append('checkout', run(3));
    assert.deepEqual(
      (await store.read('api')).map((r) => r.sha),
      ['sha1', 'sha2'],
    );
    assert.deepEqual(
      (await store.read('checkout')).map((r) => r.sha),
      ['sha3'],
    );
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

  it('keeps every run appended at once by 8 processes', async () => {
    const path = join(dir, 'concurrent', 'baseline.json');
    await appendFromProcesses(path, 8, 3);
    const kept = (await createFileStore(path, captureLog()).read('api')).map((r) => r.sha).sort();
    const expected = Array.from({ length: 8 }, (_, p) => [0, 1, 2].map((r) => `p${p}r${r}`))
      .flat()
      .sort();
    assert.deepEqual(kept, expected);
    assert.deepEqual(await readdir(join(dir, 'concurrent')), ['baseline.json'], 'no lock or temp file left behind');
  });

  it('breaks a lock left by a writer that died (its pid is gone), and one older than the stale age', async () => {
    const path = join(dir, 'stale.json');
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    await writeFile(`${path}.lock`, JSON.stringify({ pid: Number(dead.stdout.trim()), host: hostname(), token: 'dead' }));
    const started = Date.now();
    await createFileStore(path, captureLog(), { lockWaitMs: 5_000 }).append('api', run(1));
    assert.ok(Date.now() - started < 2_000, 'it did not wait for the dead writer');

    // Another machine's writer (a shared directory) cannot be asked: only its age tells.
    await writeFile(`${path}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', token: 'old' }));
    const old = new Date(Date.now() - 120_000);
    await utimes(`${path}.lock`, old, old);
    await createFileStore(path, captureLog(), { lockWaitMs: 5_000 }).append('api', run(2));
    assert.deepEqual(
      (await createFileStore(path, captureLog()).read('api')).map((r) => r.sha),
      ['sha1', 'sha2'],
    );
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.startsWith('stale.json.')),
      [],
      'no lock left',
    );
  });

  it('waits a bounded time for a live writer, then names the lock; the history is untouched', async () => {
    const path = join(dir, 'held.json');
    const store = createFileStore(path, captureLog(), { lockWaitMs: 300 });
    await store.append('api', run(1));
    const before = await readFile(path, 'utf8');
    await writeFile(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), token: 'live' }));
    const started = Date.now();
    await assert.rejects(store.append('api', run(2)), (error: Error) => {
      assert.match(error.message, new RegExp(`held\\.json\\.lock has been held by process ${process.pid} on `));
      assert.match(error.message, /remove .*held\.json\.lock \(only the lock; the history is untouched\)/);
      return true;
    });
    assert.ok(Date.now() - started >= 300, 'it waited');
    assert.equal(await readFile(path, 'utf8'), before);
    assert.equal(JSON.parse(await readFile(`${path}.lock`, 'utf8')).token, 'live', "another writer's lock is never removed");
    await rm(`${path}.lock`);
  });

  it('caps each key by bytes: an oversized file from an older version is rewritten under the cap, other keys kept', async () => {
    const path = join(dir, 'big.json');
    const oversized = { ...emptyDocument(), histories: { api: Array.from({ length: 100 }, (_, i) => bigRun(i)), web: [run(500)] } };
    assert.ok(historyBytes('api', oversized.histories.api) > HISTORY_BYTE_CAP);
    await writeFile(path, serializeDocument(oversized));
    await createFileStore(path, captureLog()).append('api', bigRun(100));
    const document = parseDocument(await readFile(path, 'utf8'), 'test');
    assert.ok(historyBytes('api', document.histories.api) <= HISTORY_BYTE_CAP);
    const kept = document.histories.api.map((r) => r.sha);
    assert.equal(kept.at(-1), 'sha100');
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, i) => `sha${101 - kept.length + i}`),
      'oldest dropped',
    );
    assert.deepEqual(
      document.histories.web.map((r) => r.sha),
      ['sha500'],
    );
  });

  const corrupt: [string, string, RegExp][] = [
    ['truncated JSON', '{"schema":"loadgate-baseline","vers', /not valid JSON \(corrupted or truncated\)/],
    ['another tool’s file', '{"benchmarks":[]}', /"schema" is not "loadgate-baseline"/],
    ['a future version', '{"schema":"loadgate-baseline","version":2,"histories":{}}', /version 2 is not supported/],
    [
      'a run without bursts',
      JSON.stringify({ schema: 'loadgate-baseline', version: 1, histories: { api: [{ ...run(1), bursts: [] }] } }),
      /histories\.api\[0\]\.bursts is empty/,
    ],
    [
      'a burst with a text figure',
      JSON.stringify({ schema: 'loadgate-baseline', version: 1, histories: { api: [{ ...run(1), bursts: [{ p50: 'fast' }] }] } }),
      /bursts\[0\] lacks numeric/,
    ],
  ];
  for (const [title, text, expected] of corrupt) {
    it(`refuses ${title} with a clear error and leaves the file untouched`, async () => {
      const path = join(dir, `${title.replace(/\W+/g, '-')}.json`);
      await writeFile(path, text);
      const store = createFileStore(path, captureLog());
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
    assert.deepEqual(
      loadSignatureDifferences(before, loadSignatureOf(settingsOf({ bursts: '9', warmup: '1s' }))),
      [],
      'bursts and warmup do not change what a latency means',
    );
  });
});

describe('run context', { timeout: 10_000 }, () => {
  const env = { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '7' };
  it('records only on a push to the default branch from the event payload', () => {
    assert.equal(isDefaultBranchPush(parseRunContext(env, { repository: { default_branch: 'main' } })), true);
    assert.equal(isDefaultBranchPush(parseRunContext(env, { repository: { default_branch: 'trunk' } })), false);
    assert.equal(
      isDefaultBranchPush(parseRunContext({ ...env, GITHUB_EVENT_NAME: 'pull_request' }, { repository: { default_branch: 'main' } })),
      false,
    );
    assert.equal(isDefaultBranchPush(parseRunContext(env, {})), false, 'no payload, no write');
  });

  it('finds the pull request and the run URL', () => {
    const context = parseRunContext({ ...env, GITHUB_EVENT_NAME: 'pull_request_target' }, { pull_request: { number: 12 } });
    assert.equal(context.pullRequestNumber, 12);
    assert.equal(context.runUrl, 'https://github.com/o/r/actions/runs/7');
  });
});
