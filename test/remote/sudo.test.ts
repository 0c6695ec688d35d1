// Privileged commands as a non-root user: two temporary accounts, one with passwordless sudo and
// one whose sudo asks for its password. Needs root (useradd) and sudo installed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { removeLocalUsers } from '../support/local-users.ts';

const suffix = randomBytes(3).toString('hex');
const passwordless = `lgnopw${suffix}`;
const withPassword = `lgpw${suffix}`;
const password = `pw-${randomBytes(12).toString('base64url')}`;
const sudoers = `/etc/sudoers.d/loadgate-test-${suffix}`;
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/sudo');

describe('sudo for a non-root SSH user', { timeout: 90_000 }, () => {
  // Fails, never skips (test/run.sh): a sudo test that did not run proves nothing.
  before(() => assert.ok(canRun, 'needs root and sudo (apt-get install sudo): run `npm test` as root'));
  let sshd: Sshd;
  let log: CapturedLog;
  const errors: string[] = [];
  const open: RemoteHost[] = [];

  async function connect(username: string, overrides: Partial<SshSettings> = {}): Promise<RemoteHost> {
    const host = await connectTarget(
      {
        host: sshd.host,
        port: sshd.port,
        username,
        privateKey: sshd.privateKey,
        fingerprints: [sshd.hostKeyFingerprint],
        knownHosts: [],
        insecureSkipHostKeyCheck: false,
        ...overrides,
      },
      log,
    );
    open.push(host);
    return host;
  }

  async function sudoError(promise: Promise<unknown>): Promise<TargetError> {
    const error = await promise.then(
      () => assert.fail('expected a sudo error'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof TargetError, String(error));
    errors.push(error.message);
    return error;
  }

  before(async () => {
    for (const user of [passwordless, withPassword]) execFileSync('useradd', ['-M', '-s', '/bin/sh', user]);
    // sshd refuses accounts whose password field is locked ('!'); '*' is "no password", not locked.
    execFileSync('usermod', ['-p', '*', passwordless]);
    execFileSync('chpasswd', { input: `${withPassword}:${password}\n` });
    writeFileSync(sudoers, `${passwordless} ALL=(ALL) NOPASSWD: ALL\n${withPassword} ALL=(ALL) ALL\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-q', '-f', sudoers]);
    sshd = await startSshd();
  });
  test.beforeEach(() => {
    log = captureLog();
  });
  test.afterEach(() => {
    assertNoSecrets([...log.messages, ...errors], [password, sshd.privateKey]);
  });
  after(async () => {
    await Promise.all(open.map((host) => host.close()));
    await sshd?.stop();
    rmSync(sudoers, { force: true });
    removeLocalUsers([passwordless, withPassword]);
  });

  test('passwordless sudo: `sudo -n`, commands run as root, plain ones as the user', async () => {
    const host = await connect(passwordless);
    assert.equal(host.isRoot, false);
    assert.equal((await host.exec('id -un')).stdout.trim(), passwordless);
    const elevated = await host.exec('id -u; cat', { sudo: true, stdin: 'input line\n' });
    assert.deepEqual({ ...elevated, stderr: '' }, { stdout: '0\ninput line\n', stderr: '', code: 0 });
    assert.match(log.messages.join('\n'), /not root, privileged commands use sudo/);
  });

  test('sudo that asks for a password we do not have: an error naming sudo-password', async () => {
    const host = await connect(withPassword);
    const error = await sudoError(host.exec('id -u', { sudo: true }));
    assert.equal(error.code, 'sudo-password-required');
    assert.match(error.message, /set the `sudo-password` input/);
    assert.match(error.message, new RegExp(withPassword));
  });

  test('with sudo-password: `sudo -S`, the password never reaches the command', async () => {
    const host = await connect(withPassword, { sudoPassword: password });
    const elevated = await host.exec('id -u; cat', { sudo: true, stdin: 'after the password\n' });
    assert.equal(elevated.code, 0, elevated.stderr);
    assert.equal(elevated.stdout, '0\nafter the password\n');
    // Every call asks sudo again (-k): the second one must not hand the password to `cat`.
    const again = await host.exec('cat', { sudo: true, stdin: 'only this\n' });
    assert.equal(again.stdout, 'only this\n');
  });

  test('a wrong sudo-password is told apart', async () => {
    const host = await connect(withPassword, { sudoPassword: `${password}-wrong` });
    const error = await sudoError(host.exec('id -u', { sudo: true }));
    assert.equal(error.code, 'sudo-password-rejected');
    assert.match(error.message, /rejected the `sudo-password`/);
    assertNoSecrets(errors, [`${password}-wrong`]);
  });

  test('a wrong sudo-password with the lock on is named within seconds, not after `lock-timeout`', async () => {
    const wrong = `${password}-wrong`;
    const host = await connect(withPassword, { sudoPassword: wrong });
    const directory = mkdtempSync(join(tmpdir(), 'loadgate-sudo-lock-'));
    try {
      // The lock command keeps stdin open (it ends on EOF), so `sudo -S` would ask again forever.
      const locking = acquireLock(
        host,
        { timeoutMs: 600_000, holder: { runId: '7', repository: 'octo/api' }, directory: join(directory, 'lock') },
        log,
      );
      const answer = await Promise.race([
        locking.then(
          () => 'took the lock',
          (caught: unknown) => caught,
        ),
        new Promise((resolve) => setTimeout(resolve, 20_000, 'no answer within 20 s').unref()),
      ]);
      assert.ok(answer instanceof TargetError, String(answer));
      errors.push(answer.message);
      assert.equal(answer.code, 'sudo-password-rejected');
      assert.ok(answer.message.includes(`rejected the \`sudo-password\` given for ${withPassword}`), answer.message);
      assertNoSecrets(errors, [wrong]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('a spawned sudo command (through sudo -S and its pty) ends on stop()', async () => {
    const host = await connect(withPassword, { sudoPassword: password });
    const marker = `loadgate-sudo-spawn-${suffix}`;
    const sampler = host.spawn(`while :; do echo $(id -u) ${marker}; sleep 0.2; done`, { sudo: true });
    const first = await new Promise<string>((resolve) => sampler.onLine(resolve));
    assert.equal(first, `0 ${marker}`);
    await sampler.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    let left = '';
    try {
      left = execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' });
    } catch {
      // nothing left
    }
    assert.equal(left, '');
  });
});
