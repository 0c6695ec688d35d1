// A target that takes no more connections than the load opens (a worker pool, a connection limit
// in front of it): the RTT probe's handshakes are refused during the bursts. The run must say so
// and judge end to end; the probe never fails it (issue 15).

import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBundle, SHORT_RUN } from '../support/run-bundle.ts';

const PUSH_TO_MAIN = { ref: 'refs/heads/main', repository: { default_branch: 'main', full_name: 'octo-org/shop' } };
const PULL_REQUEST = {
  pull_request: { number: 7, head: { repo: { full_name: 'octo-org/shop' } }, base: { repo: { full_name: 'octo-org/shop' } } },
  repository: { default_branch: 'main', full_name: 'octo-org/shop' },
};
const LIMIT = Number(SHORT_RUN.connections);

/**
 * An HTTP server on 127.0.0.1 that stops listening while it holds `limit` connections, so the
 * kernel refuses the next handshake (ECONNREFUSED), and listens again when one ends.
 */
async function limitedServer(limit: number): Promise<{ server: Server; url: string; refusedWhileFull: () => number }> {
  let open = 0;
  let fullSpells = 0;
  const server = createServer((_request, response) => setTimeout(() => response.end('ok'), 5));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  server.on('connection', (socket) => {
    open += 1;
    if (open >= limit && server.listening) {
      fullSpells += 1;
      server.close();
    }
    socket.once('close', () => {
      open -= 1;
      if (open < limit && !server.listening) server.listen(port, '127.0.0.1');
    });
  });
  return { server, url: `http://127.0.0.1:${port}/`, refusedWhileFull: () => fullSpells };
}

describe('a target that refuses connections beyond the load’s own (127.0.0.1)', { timeout: 120_000 }, () => {
  let target: Awaited<ReturnType<typeof limitedServer>>;
  let dir: string;
  before(async () => {
    target = await limitedServer(LIMIT);
    dir = await mkdtemp(join(tmpdir(), 'loadgate-limit-'));
  });
  after(async () => {
    target.server.closeAllConnections();
    target.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the refused probes, judges end to end, and neither fails nor errors the run', async () => {
    const inputs = {
      url: target.url,
      ...SHORT_RUN,
      'baseline-store': 'file',
      'baseline-path': join(dir, 'baseline.json'),
      comment: 'never',
    };
    const recorded = await runBundle({ inputs, eventName: 'push', event: PUSH_TO_MAIN });
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    const gated = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(gated.code, 0, gated.stdout + gated.stderr);
    assert.equal(gated.outputs.verdict, 'pass', gated.stdout);
    assert.ok(target.refusedWhileFull() >= 2 * (Number(SHORT_RUN.bursts) + 1), 'every burst and warmup filled the server');

    // 15 handshakes a burst, 3 bursts: every one refused, and the user is told which way it went.
    const warning =
      /::warning::network RTT probe: (\d+) of (\d+) handshakes during the bursts failed \(ECONNREFUSED\); bursts without an RTT are judged end to end/.exec(
        gated.stdout,
      );
    assert.ok(warning, gated.stdout);
    assert.equal(warning[1], warning[2], 'all of them');
    assert.ok(Number(warning[1]) >= 3 * Number(SHORT_RUN.bursts), warning[0]);
    assert.match(gated.summary, new RegExp(`\\| network RTT +\\|[^\\n]*⚠️ ${warning[1]} of ${warning[2]} probes failed`));
    assert.equal(gated.outputs['network-rtt-ms'], '', 'no RTT figure from refused handshakes');
    assert.equal(gated.outputs['service-median-ms'], '');
    assert.ok(Number(gated.outputs['median-ms']) >= 5, 'the load itself went through');
    assert.notEqual((gated.report?.decision as { latencyBasis?: string } | undefined)?.latencyBasis, 'service-time');
  });
});
