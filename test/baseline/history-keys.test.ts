// Baseline keys are user input (`baseline-key`, `name`): names of Object.prototype members must
// be plain keys in every store, and a `baseline-path` that is not a file must be named as such.

import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileStore } from '../../src/baseline/file-store.ts';
import { captureLog } from '../support/capture-log.ts';
import { appendRun, emptyDocument, parseDocument, serializeDocument, type HistoryRun } from '../../src/baseline/history.ts';

const KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];

function run(sha: string): HistoryRun {
  return {
    sha,
    ref: 'refs/heads/main',
    time: '2026-01-01T00:00:00.000Z',
    config: { url: 'http://127.0.0.1/', method: 'GET', connections: 10, durationMs: 10_000, pipelining: 1, rate: null, bodySha256: null },
    healthy: true,
    bursts: [{ p50: 10, p95: 20, p99: 30, requestsPerSec: 900, errorRate: 0, ok: 9000 }],
    curve: [10, 12, 15, 20, 30, 40],
  };
}

describe('baseline keys named like Object.prototype members', { timeout: 10_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loadgate-keys-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('have no history until one is recorded, then their own, in the file store', async () => {
    const path = join(dir, 'baseline.json');
    const store = createFileStore(path, captureLog());
    for (const key of KEYS) assert.deepEqual(await store.read(key), [], key);
    for (const key of KEYS) await store.append(key, run(`sha-${key}`));
    for (const key of KEYS)
      assert.deepEqual(
        (await store.read(key)).map((stored) => stored.sha),
        [`sha-${key}`],
        key,
      );
    assert.deepEqual(await store.read('valueOf'), []);
    const stored = JSON.parse(await readFile(path, 'utf8'));
    assert.deepEqual(Object.keys(stored.histories).sort(), [...KEYS].sort(), 'each key is an own entry of the file');
  });

  it('survive a round trip through the document functions the branch store uses', () => {
    const document = KEYS.reduce((doc, key) => appendRun(doc, key, run(key)), emptyDocument());
    const parsed = parseDocument(serializeDocument(document), 'test');
    for (const key of KEYS) assert.equal(parsed.histories[key]?.length, 1, key);
    assert.equal(parsed.histories.valueOf, undefined);
    // biome-ignore lint/suspicious/noProto: a history named `__proto__` is what this test is about
    assert.equal(appendRun(parsed, '__proto__', run('second')).histories.__proto__?.length, 2);
  });
});

describe('a baseline-path that is a directory', { timeout: 10_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loadgate-eisdir-'));
    await mkdir(join(dir, 'store'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is refused naming the input and the accepted form', async () => {
    const where = join(dir, 'store');
    await assert.rejects(createFileStore(where, captureLog()).read('api'), {
      message: `input \`baseline-path\`: ${where} is a directory; expected the path of a file, such as \`.loadgate/baseline.json\``,
    });
    await assert.rejects(createFileStore(where, captureLog()).append('api', run('x')), /input `baseline-path`: .* is a directory/);
  });
});
