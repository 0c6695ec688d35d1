// The handshakes a burst's connections paid, counted against real HTTP and HTTPS servers on
// 127.0.0.1: what verdict/service-time.ts takes off a new connection's first request.

import { strict as assert } from 'node:assert';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { measureBurstInProcess } from '../../src/load/burst.ts';
import { tlsRoundTrips } from '../../src/load/count-handshakes.ts';
import { selfSignedCertificate } from '../support/tls-cert.ts';

const answer: RequestListener = (_request, response) => response.end('ok');
const closing: RequestListener = (_request, response) => {
  response.setHeader('Connection', 'close');
  response.end('ok');
};

async function burstAgainst(server: Server, scheme: 'http' | 'https', rate?: number) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return await measureBurstInProcess({
      url,
      method: 'GET',
      headers: {},
      connections: 2,
      pipelining: 1,
      timeoutMs: 5000,
      durationMs: 1000,
      rate,
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('the handshakes a burst paid', { timeout: 60_000 }, () => {
  it('reads the TLS handshake’s round trips off the negotiated version', () => {
    const socket = (protocol: string, reused: boolean) => ({ getProtocol: () => protocol, isSessionReused: () => reused });
    assert.equal(tlsRoundTrips(socket('TLSv1.3', false)), 1);
    assert.equal(tlsRoundTrips(socket('TLSv1.2', false)), 2);
    assert.equal(tlsRoundTrips(socket('TLSv1.2', true)), 1, 'a resumed TLS 1.2 session');
  });

  it('HTTP keep-alive: one TCP handshake per connection, the two connections only', async () => {
    const sample = await burstAgainst(createHttpServer({ keepAlive: true }, answer), 'http');
    assert.ok(sample.ok > 100, `${sample.ok} requests`);
    assert.deepEqual([sample.connections, sample.requestsBehindHandshakes, sample.handshakeRoundTrips], [2, 2, 2]);
  });

  const { key, cert } = selfSignedCertificate();
  for (const [version, perConnection] of [
    ['TLSv1.3', 2],
    ['TLSv1.2', 3],
  ] as const) {
    it(`HTTPS with ${version}, every connection closed by the server: ${perConnection} round trips per connection`, async () => {
      const server = createHttpsServer({ key, cert, minVersion: version, maxVersion: version }, closing);
      const sample = await burstAgainst(server, 'https');
      assert.ok(sample.ok > 20, `${sample.ok} requests`);
      assert.ok(sample.connections >= sample.ok, `${sample.connections} connections for ${sample.ok} requests`);
      assert.equal(sample.requestsBehindHandshakes, sample.connections, 'closed-loop, every first request waits for its handshakes');
      // A connection opened as the burst ended may not have finished its TLS handshake.
      const mean = sample.handshakeRoundTrips / sample.requestsBehindHandshakes;
      assert.ok(Math.abs(mean - perConnection) < 0.05, `${mean.toFixed(3)} round trips per connection`);
    });
  }

  it('paced (rate 40, a send every 50 ms per connection), a reconnect completes before the next send: no request waits for a handshake', async () => {
    const server = createHttpsServer({ key, cert, minVersion: 'TLSv1.3' }, closing);
    const sample = await burstAgainst(server, 'https', 40);
    assert.ok(sample.ok >= 30, `${sample.ok} requests`);
    assert.ok(sample.connections >= sample.ok, `${sample.connections} connections for ${sample.ok} requests`);
    // Connection 0's first slot is the burst's start: its first request goes at once, behind its handshakes.
    assert.ok(sample.requestsBehindHandshakes <= 2, `${sample.requestsBehindHandshakes} requests behind a handshake`);
  });
});
