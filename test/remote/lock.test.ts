import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SshSettings } from '../../src/config/settings.ts';
import { acquireLock } from '../../src/remote/lock.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { TargetError } from '../../src/remote/target-error.ts';
import { assertNoSecrets, captureLog, type CapturedLog } from '../support/capture-log.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

function processesUsing(directory: string): string {
  try {
    return execFileSync('pgrep', ['-af', directory], { encoding: 'utf8' });
  } catch {
    return '';
  }
}

describe('the target lock between concurrent runs', { timeout: 120_000 }, () => {
  let sshd: Sshd;
  let directory: string;
  let ssh: SshSettings;
  const logs: CapturedLog[] = [];
  const errors: string[] = [];
  const open: RemoteHost[] = [];

  async function run(): Promise<{ host: RemoteHost; log: CapturedLog }> {
    const log = captureLog();
    logs.push(log);
    const host = await connectTarget(ssh, log);
    open.push(host);
    return { host, log };
  }

  before(async () => {
    sshd = await startSshd();
    // Our own lock directory: other loadgate runs on this machine use the default one.
    directory = mkdtempSync(join(tmpdir(), 'loadgate-lock-test-'));
    ssh = {
      host: sshd.host,
      port: sshd.port,
      username: 'root',
      privateKey: sshd.privateKey,
      fingerprints: [sshd.hostKeyFingerprint],
      knownHosts: [],
      insecureSkipHostKeyCheck: false,
    };
  });
  after(async () => {
    await Promise.all(open.map((host) => host.close()));
    await sshd?.stop();
    rmSync(directory, { recursive: true, force: true });
    assertNoSecrets([...logs.flatMap((log) => log.messages), ...errors], [sshd.privateKey]);
  });

  test('a second run waits, then times out naming the holder; gets the lock once it is released', async () => {
    const first = await run();
    const second = await run();
    const held = await acquireLock(first.host, { timeoutMs: 60_000, holder: { runId: '4242', repository: 'octo/api' }, directory }, first.log);

    const startedWaiting = Date.now();
    const error = await acquireLock(second.host, { timeoutMs: 1_000, holder: { runId: '4343', repository: 'octo/web' }, directory }, second.log).then(
      () => assert.fail('the second run must not get the lock'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof TargetError, String(error));
    errors.push(error.message);
    assert.equal(error.code, 'lock-timeout');
    assert.match(error.message, /held|holds/);
    assert.match(error.message, /run 4242 of octo\/api \(since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)/);
    assert.ok(Date.now() - startedWaiting >= 900, 'it waited for lock-timeout before giving up');
    assert.match(second.log.messages.join('\n'), /Waiting up to 1 s for the lock on the target, held by run 4242 of octo\/api/);

    const waiting = acquireLock(second.host, { timeoutMs: 30_000, holder: { runId: '4343', repository: 'octo/web' }, directory }, second.log);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await held.release();
    const taken = await waiting;
    // The holder file now names the second run.
    assert.match(execFileSync('cat', [join(directory, 'holder')], { encoding: 'utf8' }), /"runId":"4343","repository":"octo\/web"/);
    await taken.release();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(execFileSync('cat', [join(directory, 'holder')], { encoding: 'utf8' }), '', 'a released lock names no holder');
    assert.equal(processesUsing(directory), '', 'no lock holder is left on the target');
  });

  test('a run that crashes (SIGKILL) frees the lock: its SSH session ends with it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'lock-holder-process.ts')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      child.stdin.end(JSON.stringify({ ssh, directory }));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('acquired') && resolve());
        child.once('exit', (code) => reject(new Error(`the holder process exited early (${code})`)));
      });
      const { host, log } = await run();
      const busy = await acquireLock(host, { timeoutMs: 500, holder: { runId: 'probe', repository: 'octo/api' }, directory }, log).then(
        () => assert.fail('the crashing run still holds the lock'),
        (caught: unknown) => caught as Error,
      );
      errors.push(busy.message);
      assert.match(busy.message, /run crashing-run of octo\/crash/);

      child.kill('SIGKILL');
      const lock = await acquireLock(host, { timeoutMs: 20_000, holder: { runId: 'next', repository: 'octo/api' }, directory }, log);
      await lock.release();
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a lock directory that is not a safe absolute path is refused', async () => {
    const { host, log } = await run();
    await assert.rejects(
      acquireLock(host, { timeoutMs: 1_000, holder: { runId: '1', repository: 'o/r' }, directory: '/tmp/x; touch /tmp/pwned' }, log),
      (error: unknown) => error instanceof TargetError && error.code === 'invalid-setting',
    );
  });

  test('holder values with quotes, $(…) and newlines are written as data', async () => {
    const { host, log } = await run();
    const runId = `1'; touch ${directory}/pwned; echo '$(id)\n2`;
    const lock = await acquireLock(host, { timeoutMs: 5_000, holder: { runId, repository: '"o/r"' }, directory }, log);
    try {
      const holder = JSON.parse(execFileSync('cat', [join(directory, 'holder')], { encoding: 'utf8' }));
      assert.equal(holder.runId, runId);
      assert.equal(holder.repository, '"o/r"');
      assert.throws(() => execFileSync('test', ['-e', join(directory, 'pwned')]));
    } finally {
      await lock.release();
    }
  });
});
