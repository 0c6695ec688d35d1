import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { assertWrappable, honourConnectionClose } from '../../src/load/honour-connection-close.ts';

const SERVICE_MS = 60;

describe('honourConnectionClose, autocannon’s setupClient for servers that close connections', { timeout: 60_000 }, () => {
  let url: string;
  let close: () => void;
  before(async () => {
    const server = createServer((request, response) => {
      request.resume();
      setTimeout(() => response.writeHead(200, { connection: 'close' }).end('ok'), SERVICE_MS);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () => {
      server.closeAllConnections();
      server.close();
    };
  });
  after(() => close());

  const p50 = async (options: Partial<autocannon.Options>) =>
    (await autocannon({ url, connections: 2, duration: 2, ...options })).latency.p50;

  it('times the clients it is given, and only those: autocannon itself stays unpatched', async () => {
    const fixed = await p50({ setupClient: honourConnectionClose() });
    assert.ok(fixed >= SERVICE_MS && fixed < SERVICE_MS + 6, `p50 ${fixed} ms with the fix for a ${SERVICE_MS} ms service`);
    // The same process, no setupClient: the upstream bug is still there, so the fix did not leak
    // into autocannon's module. When this fails, autocannon got fixed: drop the workaround.
    const plain = await p50({});
    assert.ok(plain > SERVICE_MS * 2, `p50 ${plain} ms without the fix`);
  });

  it('the upstream reproduction script reproduces with the pinned autocannon', async () => {
    const script = new URL('../../bench/autocannon-connection-close.mjs', import.meta.url);
    const run = promisify(execFile)(process.execPath, [script.pathname], { timeout: 30_000 });
    await assert.rejects(run, (error: { code?: number; stdout?: string }) => {
      assert.equal(error.code, 1, 'exit status 1 means reproduced');
      assert.match(error.stdout ?? '', /^autocannon 8\.0\.0, node v/);
      assert.match(error.stdout ?? '', /REPRODUCED/);
      return true;
    });
  });
});

describe('assertWrappable', () => {
  it('names autocannon’s version and the missing method', () => {
    const renamed = { _connect() {}, _sendRequest() {} };
    assert.throws(() => assertWrappable(renamed, '8.1.0'), /^Error: autocannon 8\.1\.0's lib\/httpClient\.js has no _doRequest\(\) method/);
    assert.throws(() => assertWrappable({ _doRequest() {} }, '9.0.0'), /autocannon 9\.0\.0's .* no _connect\(\) method/);
  });

  it('accepts a prototype that has both methods', () => {
    assert.doesNotThrow(() => assertWrappable({ _connect() {}, _doRequest() {} }, '8.0.0'));
  });
});
