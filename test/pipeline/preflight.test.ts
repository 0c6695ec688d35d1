// runGate in this process at the default load settings (5 s warmup, 5 bursts of 10 s, as many
// again to confirm) against real servers on 127.0.0.1 that cannot serve the load: a closed port,
// a self-signed certificate, 401, 404, 500, a hang. Each ends as `error` in seconds, naming the
// cause, and the servers' own request counts show that only the check's tries reached them.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RawInputs } from '../../src/config/input-defaults.ts';
import { parseInputs } from '../../src/config/parse.ts';
import { parseRunContext } from '../../src/config/run-context.ts';
import type { Settings } from '../../src/config/settings.ts';
import { RETRY_PAUSES_MS } from '../../src/load/preflight-diagnosis.ts';
import { runGate } from '../../src/pipeline.ts';
import { renderTerminal } from '../../src/report/comment-body.ts';
import { exitCodeFor, type GateReport } from '../../src/report/gate-report.ts';
import { captureLog, type CapturedLog } from '../support/capture-log.ts';
import { selfSignedCertificate } from '../support/tls-cert.ts';

/** A failing target gets every try; a healthy one answers the first. */
const TRIES = RETRY_PAUSES_MS.length + 1;
/** The tries take about 1 s: 5 s leaves room for a busy machine, and is far below one 10 s burst. */
const WALL_LIMIT_MS = 5_000;

interface CountingServer {
  origin: string;
  /** Requests received, by path. */
  counts: Map<string, number>;
  total(): number;
  close(): Promise<void>;
}

/** `/status/N` answers N; `/hang` never answers; anything else 200. */
function handler(counts: Map<string, number>) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = request.url?.split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    request.resume();
    if (path === '/hang') return;
    const status = Number(/^\/status\/(\d+)$/.exec(path)?.[1] ?? 200);
    response.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
  };
}

async function listening(server: Server, scheme: 'http' | 'https', counts: Map<string, number>): Promise<CountingServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: a server's, closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The action's defaults but for the store and `inputs`. */
function settingsOf(inputs: RawInputs): Settings {
  const plan = parseInputs({ 'baseline-store': 'none', ...inputs });
  assert.ok(plan.kind === 'measure');
  return plan.settings;
}

async function timedGate(settings: Settings, log: CapturedLog = captureLog()): Promise<{ report: GateReport; wallMs: number }> {
  const started = performance.now();
  const report = await runGate(settings, parseRunContext({}, {}), log);
  return { report, wallMs: performance.now() - started };
}

/** What every failed check shares: verdict error, exit 1, no burst, in seconds, the cause in the verdict line. */
function assertStoppedBeforeLoad(run: { report: GateReport; wallMs: number }, settings: Settings, cause: RegExp): void {
  const { report, wallMs } = run;
  assert.deepEqual([settings.load.warmupMs, settings.load.bursts, settings.load.durationMs], [5_000, 5, 10_000], 'the default load');
  assert.equal(report.verdict, 'error', report.headline);
  assert.equal(exitCodeFor(report.verdict, settings.gate), 1);
  assert.equal(report.bursts.length, 0);
  assert.match(report.headline, cause);
  const terminal = renderTerminal(report);
  assert.ok(terminal.startsWith(`💥 loadgate: error: ${report.headline}\n`), terminal);
  assert.match(terminal, /No load was sent: before the warmup, loadgate sends each target its request/);
  assert.ok(wallMs < WALL_LIMIT_MS, `took ${Math.round(wallMs)} ms`);
}

describe('the check before any load, at the default load settings', { timeout: 120_000 }, () => {
  let plain: CountingServer;
  let tls: CountingServer;
  let dir: string;
  before(async () => {
    const plainCounts = new Map<string, number>();
    plain = await listening(createServer(handler(plainCounts)), 'http', plainCounts);
    const tlsCounts = new Map<string, number>();
    tls = await listening(createHttpsServer(selfSignedCertificate(), handler(tlsCounts)), 'https', tlsCounts);
    dir = await mkdtemp(join(tmpdir(), 'loadgate-preflight-'));
  });
  after(async () => {
    await plain.close();
    await tls.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a closed port: nothing is listening, did the deploy start the service?', async () => {
    const port = await closedPort();
    const settings = settingsOf({ url: `http://127.0.0.1:${port}/api/items` });
    const run = await timedGate(settings);
    assertStoppedBeforeLoad(
      run,
      settings,
      new RegExp(
        `^every request to http://127\\.0\\.0\\.1:${port}/api/items was refused: nothing is listening on 127\\.0\\.0\\.1:${port}\\. Did the deploy start the service\\?$`,
      ),
    );
  });

  it('a host name that does not resolve names DNS (RFC 6761 reserves .invalid)', async () => {
    const settings = settingsOf({ url: 'http://loadgate-preflight.invalid/api/items' });
    const report = await runGate(settings, parseRunContext({}, {}), captureLog());
    assert.equal(report.verdict, 'error');
    assert.equal(report.bursts.length, 0);
    // A resolver that answers says ENOTFOUND; one that does not, EAI_AGAIN: both name DNS.
    assert.match(
      report.headline,
      /^every request to http:\/\/loadgate-preflight\.invalid\/api\/items failed: (the host name loadgate-preflight\.invalid does not resolve \(DNS: ENOTFOUND\)|looking up loadgate-preflight\.invalid in DNS failed for now \(EAI_AGAIN\))/,
    );
  });

  it('a self-signed certificate fails TLS verification, named; `tls-verify: false` loads it', async () => {
    const settings = settingsOf({ url: `${tls.origin}/api/items` });
    const before = tls.total();
    const run = await timedGate(settings);
    assertStoppedBeforeLoad(
      run,
      settings,
      /failed TLS verification: the certificate of 127\.0\.0\.1:\d+ is self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\): .*`tls-verify: false`/,
    );
    // The handshake fails before a request is written: the server saw none.
    assert.equal(tls.total(), before);

    const unverified = settingsOf({
      url: `${tls.origin}/api/items`,
      'tls-verify': 'false',
      warmup: '0',
      bursts: '1',
      duration: '200ms',
      connections: '1',
    });
    const log = captureLog();
    const loaded = await runGate(unverified, parseRunContext({}, {}), log);
    assert.equal(loaded.verdict, 'pass', loaded.headline);
    assert.equal(loaded.bursts.length, 1);
    // The check, then the burst; a request in flight when the burst ended reached the server uncounted.
    const served = tls.counts.get('/api/items') ?? 0;
    assert.ok(
      served >= 1 + loaded.bursts[0].ok && served <= 2 + loaded.bursts[0].ok,
      `served ${served}, burst counted ${loaded.bursts[0].ok}`,
    );
    assert.ok(
      log.messages.some((m) => new RegExp(`^info: preflight: GET ${tls.origin}/api/items answered 200 OK in [\\d.]+ ms$`).test(m)),
      log.messages.join('\n'),
    );
  });

  for (const [status, cause] of [
    [401, /was answered 401 Unauthorized: the Authorization header is missing: add it to `headers`$/],
    [404, /was answered 404 Not Found: the path does not exist on the target: did it move, or did the deploy not ship it\?$/],
    [500, /was answered 500 Internal Server Error: the service failed: check its logs$/],
  ] as const) {
    it(`a ${status}: an error naming it, and only the check's ${TRIES} tries reached the server`, async () => {
      const path = `/status/${status}`;
      const settings = settingsOf({ url: `${plain.origin}${path}` });
      const run = await timedGate(settings);
      assertStoppedBeforeLoad(run, settings, new RegExp(`^every request to ${plain.origin}${path} ${cause.source}`));
      assert.equal(plain.counts.get(path), TRIES);
    });
  }

  it('a target that never answers costs one `timeout`, not a warmup and ten bursts', async () => {
    const settings = settingsOf({ url: `${plain.origin}/hang`, timeout: '1s' });
    const run = await timedGate(settings);
    assertStoppedBeforeLoad(
      run,
      settings,
      /^the request to http:\/\/127\.0\.0\.1:\d+\/hang got no answer within 1 s \(the `timeout` input\)/,
    );
    assert.equal(plain.counts.get('/hang'), 1, 'a timeout is not tried again');
  });

  it("A/B: a broken baseline-url stops the run too; the candidate gets only the check's request", async () => {
    const settings = settingsOf({ url: `${plain.origin}/ab-candidate`, 'baseline-url': `${plain.origin}/status/404` });
    const before = plain.counts.get('/status/404') ?? 0;
    const run = await timedGate(settings);
    assertStoppedBeforeLoad(run, settings, new RegExp(`^every request to ${plain.origin}/status/404 was answered 404 Not Found`));
    assert.equal(plain.counts.get('/ab-candidate'), 1);
    assert.equal(plain.counts.get('/status/404'), before + TRIES);
  });

  it('shows the URL redacted and no header value; a failed check is never recorded', async () => {
    const path = join(dir, 'baseline.json');
    const settings = settingsOf({
      url: `${plain.origin}/status/401?api_key=SECRET-QUERY-VALUE`,
      headers: 'Authorization: Bearer SECRET-TOKEN-VALUE',
      'baseline-store': 'file',
      'baseline-path': path,
      'update-baseline': 'true',
    });
    const log = captureLog();
    const run = await timedGate(settings, log);
    assertStoppedBeforeLoad(
      run,
      settings,
      new RegExp(
        `^every request to ${plain.origin}/status/401\\?api_key=\\*\\*\\* was answered 401 Unauthorized: the Authorization header was refused: is its token expired\\?$`,
      ),
    );
    const shown = `${JSON.stringify(run.report)}\n${renderTerminal(run.report)}\n${log.messages.join('\n')}`;
    assert.doesNotMatch(shown, /SECRET-(QUERY|TOKEN)-VALUE/);
    assert.equal(run.report.baseline.recorded, false);
    assert.equal(existsSync(path), false, 'nothing was written to the store');
  });
});
