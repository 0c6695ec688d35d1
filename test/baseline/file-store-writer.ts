// Run by file-store.test.ts as one of several processes appending to the same file store at once.
// Argument: JSON { path, key, shas }. Prints `ready` once loaded, then appends on the first stdin
// line, so that all writers start together rather than one tsx start-up apart.

import { createInterface } from 'node:readline';
import { createFileStore } from '../../src/baseline/file-store.ts';
import { captureLog } from '../support/capture-log.ts';

const { path, key, shas } = JSON.parse(process.argv[2]!) as { path: string; key: string; shas: string[] };
const store = createFileStore(path, captureLog());
const go = new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
process.stdout.write('ready\n');
await go;
for (const sha of shas) {
  await store.append(key, {
    sha,
    ref: 'refs/heads/main',
    time: new Date().toISOString(),
    config: { url: 'http://127.0.0.1/', method: 'GET', connections: 10, durationMs: 10_000, pipelining: 1, rate: null, bodySha256: null },
    healthy: true,
    bursts: [{ p50: 10, p95: 20, p99: 30, requestsPerSec: 900, errorRate: 0, ok: 9000 }],
    curve: [10, 12, 15, 20, 30, 40],
  });
}
process.exit(0);
