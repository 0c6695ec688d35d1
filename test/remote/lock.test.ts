import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SshSettings } from '../../src/config/settings.ts';
import { acquireLock } from '../../src/remote/lock.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { TargetError } from '../../src/remote/target-error.ts';
import { assertNoSecrets, captureLog, type CapturedLog } from '../support/capture-log.ts';
import { sshSettingsOf, startSshd, type Sshd } from '../support/sshd.ts';
import { removeLocalUsers } from '../support/local-users.ts';

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
    ssh = sshSettingsOf(sshd);
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
    const held = await acquireLock(
      first.host,
      { timeoutMs: 60_000, holder: { runId: '4242', repository: 'octo/api' }, directory },
      first.log,
    );

    const startedWaiting = Date.now();
    const error = await acquireLock(
      second.host,
      { timeoutMs: 1_000, holder: { runId: '4343', repository: 'octo/web' }, directory },
      second.log,
    ).then(
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

    const waiting = acquireLock(
      second.host,
      { timeoutMs: 30_000, holder: { runId: '4343', repository: 'octo/web' }, directory },
      second.log,
    );
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

// Another account on the target: one without sudo (the account the deployed build runs as, say)
// that plants a lock directory, and one with passwordless sudo that runs loadgate as well.
const suffix = randomBytes(3).toString('hex');
const planter = `lgplant${suffix}`;
const sudoer = `lgsudo${suffix}`;
const sudoersFile = `/etc/sudoers.d/loadgate-lock-test-${suffix}`;
const canAddUsers = process.getuid?.() === 0 && existsSync('/usr/bin/sudo');

const skipUnlessUsers = canAddUsers ? false : 'needs root and sudo (apt-get install sudo)';

describe('the target lock and other accounts on the target', { timeout: 120_000, skip: skipUnlessUsers }, () => {
  let sshd: Sshd;
  let scratch: string;
  const logs: CapturedLog[] = [];
  const errors: string[] = [];
  const open: RemoteHost[] = [];

  async function connect(username: string): Promise<{ host: RemoteHost; log: CapturedLog }> {
    const log = captureLog();
    logs.push(log);
    const host = await connectTarget(
      {
        host: sshd.host,
        port: sshd.port,
        username,
        privateKey: sshd.privateKey,
        fingerprints: [sshd.hostKeyFingerprint],
        knownHosts: [],
        insecureSkipHostKeyCheck: false,
      },
      log,
    );
    open.push(host);
    return { host, log };
  }

  /** The lock for run `runId` of octo/api, taken over `who`'s connection. */
  function take(who: { host: RemoteHost; log: CapturedLog }, runId: string, timeoutMs: number, directory?: string) {
    return acquireLock(who.host, { timeoutMs, holder: { runId, repository: 'octo/api' }, ...(directory ? { directory } : {}) }, who.log);
  }

  async function lockError(promise: Promise<unknown>): Promise<TargetError> {
    const error = await promise.then(
      () => assert.fail('the lock must be refused'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof TargetError, String(error));
    errors.push(error.message);
    return error;
  }

  before(async () => {
    for (const user of [planter, sudoer]) {
      execFileSync('useradd', ['-M', '-s', '/bin/sh', user]);
      // sshd refuses accounts whose password field is locked ('!'); '*' is "no password", not locked.
      execFileSync('usermod', ['-p', '*', user]);
    }
    writeFileSync(sudoersFile, `${sudoer} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-q', '-f', sudoersFile]);
    sshd = await startSshd();
    // World-readable, so the planter can reach it; /tmp's sticky bit keeps its entries apart.
    scratch = mkdtempSync(join(tmpdir(), 'loadgate-lock-users-'));
    chmodSync(scratch, 0o755);
  });
  after(async () => {
    await Promise.all(open.map((host) => host.close()));
    await sshd?.stop();
    rmSync(sudoersFile, { force: true });
    removeLocalUsers([planter, sudoer]);
    rmSync(scratch, { recursive: true, force: true });
    rmSync(join(tmpdir(), `loadgate-lock-planted-${suffix}`), { recursive: true, force: true });
    assertNoSecrets([...logs.flatMap((log) => log.messages), ...errors], [sshd.privateKey]);
  });

  test('a directory another account planted, its holder a symlink to a root-owned file: refused, the file untouched', async () => {
    const victim = join(scratch, 'root-owned');
    writeFileSync(victim, 'root only\n', { mode: 0o600 });
    // In /tmp itself, where any account may create it first.
    const planted = join(tmpdir(), `loadgate-lock-planted-${suffix}`);
    const local = await connect(planter);
    const plant = await local.host.exec(`mkdir -m 777 ${planted} && ln -s ${victim} ${planted}/holder && ln -s ${victim} ${planted}/lock`);
    assert.equal(plant.code, 0, plant.stdout + plant.stderr);

    const root = await connect('root');
    const error = await lockError(take(root, '1', 2_000, planted));
    assert.equal(error.code, 'command-failed');
    assert.match(
      error.message,
      new RegExp(`^The lock directory ${planted} on the target is a directory owned by ${planter} \\(uid \\d+\\) with mode 0777: not safe`),
    );
    assert.match(error.message, /only root can write \(owner root, mode 0700, no symlinks in it\)/);
    const advice = `If no loadgate run is using it, remove it as root (\`sudo rm -rf ${planted}\`) and run again`;
    assert.ok(error.message.includes(advice), error.message);
    assert.equal(readFileSync(victim, 'utf8'), 'root only\n', 'the root-owned file is untouched');
    assert.deepEqual(readdirSync(planted).sort(), ['holder', 'lock'], 'nothing was written in the planted directory');
  });

  test('a symlink inside a root-owned 0700 directory is refused too, naming the entry', async () => {
    const victim = join(scratch, 'root-owned-2');
    writeFileSync(victim, 'root only\n', { mode: 0o600 });
    const directory = mkdtempSync(join(scratch, 'symlinked-holder-'));
    symlinkSync(victim, join(directory, 'holder'));
    const root = await connect('root');
    const error = await lockError(take(root, '1', 2_000, directory));
    const expected = `^${directory}/holder in the lock directory on the target is a symbolic link owned by root \\(uid 0\\) with mode 0777`;
    assert.match(error.message, new RegExp(expected));
    assert.equal(readFileSync(victim, 'utf8'), 'root only\n');
  });

  test('runs connecting as different users exclude each other: the lock is taken as root in a root-only directory', async () => {
    const directory = join(scratch, 'shared');
    const root = await connect('root');
    const other = await connect(sudoer);
    const held = await take(root, '5001', 10_000, directory);
    try {
      const error = await lockError(take(other, '5002', 1_000, directory));
      assert.equal(error.code, 'lock-timeout');
      assert.match(error.message, /run 5001 of octo\/api/);
    } finally {
      await held.release();
    }
    const taken = await take(other, '5002', 10_000, directory);
    try {
      const info = statSync(directory);
      assert.deepEqual([info.uid, info.mode & 0o777], [0, 0o700], 'root owns the directory, mode 0700');
      assert.equal(statSync(join(directory, 'holder')).uid, 0);
      assert.match(readFileSync(join(directory, 'holder'), 'utf8'), /"runId":"5002"/);
    } finally {
      await taken.release();
    }
  });

  test('the default lock directory is /run/loadgate-lock, root-owned and 0700, also for a sudo user', async () => {
    const other = await connect(sudoer);
    const taken = await take(other, '6001', 30_000);
    try {
      const info = statSync('/run/loadgate-lock');
      assert.deepEqual([info.uid, info.mode & 0o777], [0, 0o700]);
      assert.match(other.log.messages.join('\n'), /Holding the lock on the target \(\/run\/loadgate-lock\/lock\) for run 6001/);
    } finally {
      await taken.release();
    }
  });

  test('what the holder file says is bounded and stripped of control characters before it is shown', async () => {
    const directory = mkdtempSync(join(scratch, 'hostile-holder-'));
    const runId = `\u001b[2J\u001b[31mevil\u0007\r\n${'x'.repeat(500)}`;
    // JSON escapes become control characters once parsed; raw ones between the fields must not split the line.
    const repository = 'o/r\u202e\u0000';
    const holding = spawn('flock', [join(directory, 'lock'), 'sleep', '60'], { stdio: 'ignore' });
    // The record names the live process holding the lock, as a real holder's does.
    const fields = [
      `"runId":${JSON.stringify(runId)}`,
      `"repository":${JSON.stringify(repository)}`,
      `"pid":${holding.pid}`,
      '"since":"2026-01-01T00:00:00Z"',
    ];
    writeFileSync(join(directory, 'holder'), `{${fields.join(',\n\r\u0007')}}\n`);
    try {
      await waitFor(() => processesUsing(join(directory, 'lock')) !== '');
      const root = await connect('root');
      const error = await lockError(take(root, '7', 500, directory));
      assert.equal(error.code, 'lock-timeout');
      const said = [error.message, ...root.log.messages].join('\n');
      assert.doesNotMatch(said.replaceAll('\n', ' '), /[\p{Cc}\p{Cf}]/u, 'no control or formatting character reaches the log');
      const named = /holds the lock on the target: run \[2J\[31mevil(x+)… of o\/r \(since 2026-01-01T00:00:00Z\)/.exec(error.message);
      assert.ok(named, error.message);
      assert.equal(`[2J[31mevil${named[1]}…`.length, 100, 'the run id is cut to 100 characters');
      assert.match(root.log.messages.join('\n'), /held by run \[2J\[31mevilx+… of o\/r/);

      // A holder file too long to be ours is not parsed at all, and still bounded.
      const oversized = { runId: 'y'.repeat(100_000), repository: 'o/r', since: '2026-01-01T00:00:00Z' };
      writeFileSync(join(directory, 'holder'), JSON.stringify(oversized));
      const huge = await lockError(take(root, '8', 500, directory));
      assert.match(huge.message, /holds the lock on the target: a run that did not say who it is/);
      assert.ok(huge.message.length < 400, `a bounded message (${huge.message.length} characters)`);
    } finally {
      holding.kill('SIGKILL');
    }
  });

  test('a record left by a holder that died without its trap is not shown as the holder', async () => {
    const directory = mkdtempSync(join(scratch, 'stale-holder-'));
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    const stale = { runId: '7001', repository: 'octo/api', pid: gone.pid, since: '2026-01-01T00:00:00Z' };
    writeFileSync(join(directory, 'holder'), `${JSON.stringify(stale)}\n`);
    const holding = spawn('flock', [join(directory, 'lock'), 'sleep', '60'], { stdio: 'ignore' });
    try {
      await waitFor(() => processesUsing(join(directory, 'lock')) !== '');
      const root = await connect('root');
      const error = await lockError(take(root, '8001', 500, directory));
      assert.equal(error.code, 'lock-timeout');
      assert.match(error.message, /holds the lock on the target: a run that did not say who it is/);
      assert.doesNotMatch([error.message, ...root.log.messages].join('\n'), /7001/);
    } finally {
      holding.kill('SIGKILL');
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
