import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { startSshd, targetInputs, type Sshd } from '../support/sshd.ts';
import { runBundle, SHORT_RUN, type BundleRun } from '../support/run-bundle.ts';

const PULL_REQUEST = {
  pull_request: { number: 7, head: { repo: { full_name: 'octo-org/shop' } }, base: { repo: { full_name: 'octo-org/shop' } } },
  repository: { default_branch: 'main', full_name: 'octo-org/shop' },
};
const OTHER_FINGERPRINT = `SHA256:${'Q'.repeat(43)}`;

describe('the bundle against a real loopback sshd', { timeout: 300_000 }, () => {
  let sshd: Sshd;
  let target: DemoTarget;
  let inputs: Record<string, string>;
  const secrets = () => [sshd.privateKey, ...sshd.privateKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'))];

  function assertNoSecrets(run: BundleRun): void {
    const shown = `${run.stdout.replace(/^::add-mask::.*$/gm, '')}${run.stderr}${run.summary}${JSON.stringify(run.report ?? {})}`;
    for (const secret of secrets()) assert.ok(!shown.includes(secret), 'a key line was printed');
  }

  before(async () => {
    sshd = await startSshd();
    target = await startTarget({ delayMs: 5 });
    inputs = {
      url: target.url,
      ...SHORT_RUN,
      ...targetInputs(sshd),
      'baseline-store': 'none',
      comment: 'never',
    };
  });
  after(async () => {
    await target.close();
    await sshd.stop();
  });

  it('connects with the pinned key, watches the host and reports its story', async () => {
    const run = await runBundle({ inputs, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'pass');
    const host = run.report?.host as { hostKeyFingerprint: string; bursts: { figures: { memTotalKib: number; samples: number } }[] };
    assert.equal(host.hostKeyFingerprint, sshd.hostKeyFingerprint);
    assert.equal(host.bursts.length, 3);
    for (const burst of host.bursts) {
      assert.ok(burst.figures.memTotalKib > 1_000_000, 'real MemTotal of this machine');
      assert.ok(burst.figures.samples >= 2, 'sampled during the burst');
    }
    assert.match(run.summary, /### Host under load/);
    assert.match(run.summary, /MemAvailable/);
    assert.match(run.stdout, /::add-mask::-----BEGIN OPENSSH PRIVATE KEY-----/, 'the key is masked for the runner');
    assertNoSecrets(run);
  });

  it('stops on a host key mismatch before any load reaches the url', async () => {
    const before = target.requests;
    const run = await runBundle({ inputs: { ...inputs, fingerprint: OTHER_FINGERPRINT }, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 1);
    assert.equal(run.outputs.verdict, 'error');
    assert.match(run.stdout, /::error::.*host key/i);
    assert.ok(run.stdout.includes(sshd.hostKeyFingerprint), 'the presented fingerprint is shown');
    assert.equal(target.requests, before + 1, "only the check's one request, sent before SSH; no load after a mismatch");
    assertNoSecrets(run);
  });

  it('refuses to connect without a pin and says how to get one', async () => {
    const run = await runBundle({ inputs: { ...inputs, fingerprint: '' }, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /ssh-keyscan -p \d+ 127\.0\.0\.1 \| ssh-keygen -lf -/);
  });

  it('stops when swap is missing under swap: verify, naming swap and suggesting configure', async () => {
    const before = target.requests;
    const run = await runBundle({
      inputs: { ...inputs, swap: 'verify', 'swap-size': '1T' },
      eventName: 'pull_request',
      event: PULL_REQUEST,
    });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /::error::.*swap/);
    assert.match(run.stdout, /swap: configure/);
    assert.equal(target.requests, before + 1, "only the check's one request: no load on a host that failed its swap check");
  });

  it('refuses a bad swap-path or swap-size before any SSH connection or HTTP request (issue 13)', async () => {
    const before = target.requests;
    const logStart = sshd.log().length;
    const bad = { swap: 'configure', 'swap-path': '/var/', 'swap-size': '0.00001x' };
    const run = await runBundle({ inputs: { ...inputs, ...bad }, eventName: 'pull_request', event: PULL_REQUEST });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /::error::Invalid input:.*input `swap-path`: got "\/var\/"; expected an absolute path/);
    assert.match(run.stdout, /input `swap-size`: got "0.00001x"; expected a size from 64M to 1T/);
    assert.doesNotMatch(sshd.log().slice(logStart), /Connection from/, 'no SSH connection');
    assert.equal(target.requests, before, 'no HTTP traffic');
  });

  it('ends in a report and exit 1 when sshd dies mid-run, without a stack trace', async () => {
    // Killed once load reaches the target, so the SSH session and its host watch are open: a fixed
    // delay landed before the session on a loaded machine and tested another failure. The first
    // request is the check's, sent before SSH.
    const before = target.requests;
    const killer = setInterval(() => {
      if (target.requests > before + 1) {
        clearInterval(killer);
        sshd.kill();
      }
    }, 20);
    const run = await runBundle({ inputs: { ...inputs, bursts: '5' }, eventName: 'pull_request', event: PULL_REQUEST });
    clearInterval(killer);
    sshd = await startSshd();
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(run.outputs.verdict, 'error');
    assert.match(run.stdout, /::error::.*SSH connection .* dropped/);
    assert.ok(run.report, 'a report was written');
    assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  });
});
