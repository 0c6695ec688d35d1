import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  appendRun,
  emptyDocument,
  loadSignatureDifferences,
  loadSignatureOf,
  serializeDocument,
  type HistoryRun,
} from '../../src/baseline/history.ts';
import type { LoadSettings } from '../../src/config/settings.ts';

const LOAD: LoadSettings = {
  url: 'https://deploy:hunter2@staging.example.com/api?api_key=SECRETKEY',
  method: 'GET',
  headers: {},
  connections: 10,
  durationMs: 10_000,
  bursts: 5,
  warmupMs: 5_000,
  pipelining: 1,
  timeoutMs: 10_000,
  loadProcesses: 1,
  tlsVerify: true,
};

describe('the settings fingerprint stored in the public history', { timeout: 10_000 }, () => {
  it('holds the URL redacted, no form of its credentials', () => {
    const stored = JSON.stringify(loadSignatureOf(LOAD));
    assert.doesNotMatch(stored, /hunter2|deploy|SECRETKEY/);
    assert.equal(loadSignatureOf(LOAD).url, 'https://***@staging.example.com/api?api_key=***');
  });

  it('matches a run whose credentials were rotated: the latency means the same', () => {
    const rotated = loadSignatureOf({ ...LOAD, url: 'https://deploy:n3wpass@staging.example.com/api?api_key=NEWKEY' });
    assert.deepEqual(loadSignatureDifferences(loadSignatureOf(LOAD), rotated), []);
  });

  it('still tells a changed host, path or query name, redacted', () => {
    const moved = loadSignatureOf({ ...LOAD, url: 'https://deploy:hunter2@staging.example.com/v2?api_key=SECRETKEY' });
    const differences = loadSignatureDifferences(loadSignatureOf(LOAD), moved);
    assert.deepEqual(differences, ['url https://***@staging.example.com/api?api_key=*** → https://***@staging.example.com/v2?api_key=***']);
  });

  it('keeps old histories comparable: a URL stored before redaction, with or without secrets', () => {
    const plain = { ...LOAD, url: 'https://staging.example.com/api' };
    const storedPlain = { ...loadSignatureOf(plain), url: plain.url };
    assert.deepEqual(loadSignatureDifferences(storedPlain, loadSignatureOf(plain)), []);
    const storedWhole = { ...loadSignatureOf(LOAD), url: LOAD.url };
    assert.deepEqual(loadSignatureDifferences(storedWhole, loadSignatureOf(LOAD)), []);
    const changed = loadSignatureDifferences(
      storedWhole,
      loadSignatureOf({ ...LOAD, connections: 20, url: 'https://other.example.com/?k=SECRETKEY' }),
    );
    assert.ok(!changed.join('\n').includes('SECRETKEY') && !changed.join('\n').includes('hunter2'), changed.join('\n'));
  });

  it('rewrites runs stored before redaction with their URL redacted on the next append', () => {
    const storedWhole: HistoryRun = {
      sha: 'old',
      ref: 'refs/heads/main',
      time: '2026-11-01T00:00:00.000Z',
      config: { ...loadSignatureOf(LOAD), url: LOAD.url },
      healthy: true,
      bursts: [{ p50: 10, p95: 20, p99: 30, requestsPerSec: 900, errorRate: 0, ok: 9000 }],
      curve: [10, 12, 15, 20, 30, 40],
    };
    const before = appendRun(emptyDocument(), 'api', storedWhole);
    const after = appendRun(before, 'api', { ...storedWhole, sha: 'new', config: loadSignatureOf(LOAD) });
    assert.equal(after.histories.api.length, 2);
    assert.doesNotMatch(serializeDocument(after), /hunter2|deploy|SECRETKEY/);
    assert.equal(after.histories.api[0].sha, 'old', 'the old run is kept, only its URL redacted');
  });
});
