import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { SshSettings } from '../../src/config/settings.ts';
import { fingerprintOf } from '../../src/remote/host-key.ts';
import { OUTPUT_TAIL_BYTES, type RemoteHost } from '../../src/remote/remote-host.ts';
import { KILL_GRACE_SECONDS } from '../../src/remote/shell.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { TargetError, type TargetErrorCode } from '../../src/remote/target-error.ts';
import { assertNoSecrets, captureLog, type CapturedLog } from '../support/capture-log.ts';
import { hashedKnownHosts } from '../support/known-hosts.ts';
import { sshSettingsOf, startSshd, type Sshd } from '../support/sshd.ts';

const PASSPHRASE = 'correct horse battery staple 7';

/** Processes on this machine (the target) whose command line contains `marker`. */
function remoteProcesses(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' }).trim().split('\n');
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function waitFor<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('connectTarget against a real sshd', { timeout: 120_000 }, () => {
  let sshd: Sshd;
  let log: CapturedLog;
  const errorMessages: string[] = [];
  const open: RemoteHost[] = [];

  const settings = (overrides: Partial<SshSettings> = {}): SshSettings => sshSettingsOf(sshd, overrides);

  async function connect(overrides: Partial<SshSettings> = {}): Promise<RemoteHost> {
    const host = await connectTarget(settings(overrides), log);
    open.push(host);
    return host;
  }

  async function refused(overrides: Partial<SshSettings>, code: TargetErrorCode, options = {}): Promise<string> {
    const error = await connectTarget(settings(overrides), log, options).then(
      () => assert.fail('connectTarget should have failed'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof TargetError, `expected a TargetError, got ${String(error)}`);
    errorMessages.push(error.message);
    assert.equal(error.code, code, error.message);
    return error.message;
  }

  before(async () => {
    sshd = await startSshd({ hostKeyTypes: ['ed25519', 'ecdsa'], encryptedKeyPassphrase: PASSPHRASE });
  });
  test.beforeEach(() => {
    log = captureLog();
  });
  test.afterEach(() => {
    assertNoSecrets(
      [...log.messages, ...errorMessages],
      [sshd.privateKey, sshd.encryptedPrivateKey, PASSPHRASE, sshd.unauthorizedPrivateKey],
    );
  });
  after(async () => {
    await Promise.all(open.map((host) => host.close()));
    await sshd?.stop();
  });

  test('our fingerprint of the host key is the one ssh-keygen prints', () => {
    const blob = Buffer.from(sshd.knownHostsLine.split(' ')[2]!, 'base64');
    assert.equal(fingerprintOf(blob), sshd.hostKeyFingerprint);
  });

  test('a pinned fingerprint connects, runs commands and knows it is root', async () => {
    const host = await connect();
    assert.equal(host.hostKeyFingerprint, sshd.hostKeyFingerprint);
    assert.equal(host.isRoot, true);
    const result = await host.exec('printf "%s|" "$(cat)"; echo oops >&2; exit 3', { stdin: "it's $(here)\n" });
    assert.deepEqual(result, { stdout: "it's $(here)|", stderr: 'oops\n', code: 3 });
    assert.match(log.messages.join('\n'), /Connected to root@127\.0\.0\.1:\d+ \(host key SHA256:\S+, pinned; root\)/);
  });

  test('any one of several pins is enough (the server shows only the negotiated key)', async () => {
    const host = await connect({ fingerprints: [`SHA256:${'A'.repeat(43)}`, ...[...sshd.hostKeyFingerprints].reverse()] });
    assert.ok(sshd.hostKeyFingerprints.includes(host.hostKeyFingerprint));
  });

  test('known_hosts lines pin the key under [host]:port, hashed, or a matching pattern', async () => {
    const keys = sshd.knownHostsLines.map((line) => line.split(' ').slice(1).join(' '));
    for (const knownHosts of [
      ['# scanned today', ...sshd.knownHostsLines],
      hashedKnownHosts(sshd.knownHostsLines),
      keys.map((key) => `other.example.com,[127.0.0.*]:${sshd.port} ${key}`),
    ]) {
      const host = await connect({ fingerprints: [], knownHosts });
      assert.ok(sshd.hostKeyFingerprints.includes(host.hostKeyFingerprint), knownHosts.join('\n'));
    }
  });

  test('known_hosts lines of this key under another name pin nothing, before any connection (issue 25)', async () => {
    const keys = sshd.knownHostsLines.map((line) => line.split(' ').slice(1).join(' '));
    const connections = () => sshd.log().split('Connection from').length;
    const connectionsBefore = connections();
    // Another host, and this host without its port: ssh looks a non-22 port up as `[host]:port`.
    const knownHosts = [...keys.map((key) => `[localhost]:${sshd.port} ${key}`), ...keys.map((key) => `127.0.0.1 ${key}`)];
    const message = await refused({ fingerprints: [], knownHosts }, 'host-key-not-pinned');
    assert.ok(message.includes(`\`known-hosts\` has no key for \`[127.0.0.1]:${sshd.port}\``), message);
    assert.match(message, /lines for other hosts: 1, 2, 3, 4/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(connections(), connectionsBefore, 'sshd saw no connection');
  });

  test('a different host key stops before logging in, showing expected and presented fingerprints', async () => {
    const other = await startSshd();
    try {
      const logStart = sshd.log().length;
      const message = await refused({ fingerprints: [other.hostKeyFingerprint] }, 'host-key-mismatch');
      assert.ok(message.includes(`expected ${other.hostKeyFingerprint}`), message);
      assert.ok(
        sshd.hostKeyFingerprints.some((fingerprint) => message.includes(`presented ${fingerprint}`)),
        message,
      );
      assert.match(message, /ssh-keyscan -p \d+ 127\.0\.0\.1 \| ssh-keygen -lf -/);
      // sshd saw the connection but no authentication attempt: we hung up during key exchange.
      await until(
        () => /Disconnected from|Connection (closed|reset) by/.test(sshd.log().slice(logStart)),
        5_000,
        'sshd logging the hang-up',
      );
      const attempt = sshd.log().slice(logStart);
      assert.match(attempt, /Connection from 127\.0\.0\.1/);
      assert.doesNotMatch(attempt, /publickey|Starting session/);

      // The other server's keys, listed under this server's name.
      const otherKeys = other.knownHostsLines.map((line) => line.replace(/^\S+/, `[127.0.0.1]:${sshd.port}`));
      const viaKnownHosts = await refused({ fingerprints: [], knownHosts: otherKeys }, 'host-key-mismatch');
      assert.ok(viaKnownHosts.includes(other.hostKeyFingerprint));
    } finally {
      await other.stop();
    }
  });

  test('a @revoked known_hosts key is refused even when pinned', async () => {
    const revoked = sshd.knownHostsLines.map((line) => `@revoked ${line}`);
    const message = await refused({ knownHosts: revoked, fingerprints: sshd.hostKeyFingerprints }, 'host-key-mismatch');
    assert.match(message, /@revoked/);
  });

  test('no pin and no skip: an error telling how to get the fingerprint, before any connection', async () => {
    const connections = () => sshd.log().split('Connection from').length;
    const connectionsBefore = connections();
    const message = await refused({ fingerprints: [] }, 'host-key-not-pinned');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(connections(), connectionsBefore, 'sshd saw no connection');
    assert.ok(message.includes(`ssh-keyscan -p ${sshd.port} 127.0.0.1 | ssh-keygen -lf -`), message);
    assert.match(message, /insecure-skip-host-key-check: true/);
  });

  test('insecure-skip-host-key-check connects and warns with the fingerprint', async () => {
    await connect({ fingerprints: [], insecureSkipHostKeyCheck: true });
    const warnings = log.messages.filter((message) => message.startsWith('warning:'));
    assert.equal(warnings.length, 1);
    assert.ok(
      sshd.hostKeyFingerprints.some((fingerprint) => warnings[0]!.includes(`fingerprint: ${fingerprint}`)),
      warnings[0],
    );
  });

  test('malformed pins are refused with what was wrong', async () => {
    assert.match(await refused({ fingerprints: ['MD5:aa:bb'] }, 'invalid-setting'), /fingerprint must be SHA256:/);
    assert.match(
      await refused({ fingerprints: [], knownHosts: ['[127.0.0.1]:22 ssh-ed25519 !!!'] }, 'invalid-setting'),
      /known-hosts line 1/,
    );
  });

  test('a key the server does not accept: auth rejected', async () => {
    const message = await refused({ privateKey: sshd.unauthorizedPrivateKey }, 'auth-rejected');
    assert.match(message, /rejected the SSH key for user "root"/);
  });

  test('an encrypted key works with its passphrase only', async () => {
    const host = await connect({ privateKey: sshd.encryptedPrivateKey!, passphrase: PASSPHRASE });
    assert.equal((await host.exec('echo ok')).stdout, 'ok\n');
    assert.match(await refused({ privateKey: sshd.encryptedPrivateKey! }, 'passphrase-missing'), /set the `passphrase` input/);
    assert.match(await refused({ privateKey: sshd.encryptedPrivateKey!, passphrase: 'not it' }, 'passphrase-wrong'), /does not decrypt/);
  });

  test('a key that is not a key: bad key format, without echoing it', async () => {
    const garbage = `-----BEGIN OPENSSH PRIVATE KEY-----\n${'c2VjcmV0LWJ1dC1icm9rZW4ta2V5LW1hdGVyaWFs'.repeat(2)}\n-----END OPENSSH PRIVATE KEY-----\n`;
    const message = await refused({ privateKey: garbage }, 'bad-key-format');
    assert.match(message, /Paste the whole private key file/);
    assertNoSecrets([message, ...log.messages], [garbage]);
  });

  test('connection refused, DNS failure and handshake timeout are told apart', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    assert.match(
      await refused({ port: closedPort }, 'connection-refused'),
      new RegExp(`Connection refused by 127\\.0\\.0\\.1:${closedPort}`),
    );

    // A 70-character label is refused by the resolver library itself: no DNS packet leaves the
    // machine (checked with strace), yet the error is the real ENOTFOUND.
    const unresolvable = `${'a'.repeat(70)}.example`;
    assert.match(await refused({ host: unresolvable }, 'dns-failure'), /Cannot resolve the host name/);

    // A server that accepts TCP and never speaks SSH.
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      assert.match(
        await refused({ port }, 'connect-timeout', { connectTimeoutMs: 1_000 }),
        /No SSH handshake with 127\.0\.0\.1:\d+ within 1 s/,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('stop() ends a spawned command on the target, leaving no process behind', async () => {
    const host = await connect();
    const marker = `loadgate-spawn-${process.pid}-${Date.now()}`;
    // The loop ignores stdin and SIGHUP, so only our stop mechanism can end it.
    const sampler = host.spawn(`trap '' HUP; while :; do echo ${marker}; sleep 0.2; done`);
    const lines: string[] = [];
    const twoLines = new Promise<void>((resolve) =>
      sampler.onLine((line) => {
        lines.push(line);
        if (lines.length === 2) resolve();
      }),
    );
    await waitFor(twoLines, 10_000, 'two lines from the sampler');
    assert.ok(remoteProcesses(marker).length > 0, 'the sampler runs on the target');
    await sampler.stop();
    assert.equal(await sampler.exited, 143, 'ended by SIGTERM from the stdin-EOF watcher');
    assert.deepEqual(lines.slice(0, 2), [marker, marker]);
    // `sleep` children finish their 0.2 s; allow for it before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(remoteProcesses(marker), []);
  });

  test('a spawned command that ends by itself reports its exit code and last partial line', async () => {
    const host = await connect();
    const quick = host.spawn('echo one; printf two; exit 4');
    const lines: string[] = [];
    quick.onLine((line) => lines.push(line));
    assert.equal(await waitFor(quick.exited, 10_000, 'the command exit'), 4);
    assert.deepEqual(lines, ['one', 'two']);
  });
});

describe('exec output and time limits against a real sshd', { timeout: 300_000 }, () => {
  let sshd: Sshd;
  const open: RemoteHost[] = [];

  async function connect(): Promise<RemoteHost> {
    const host = await connectTarget(sshSettingsOf(sshd), captureLog());
    open.push(host);
    return host;
  }

  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await Promise.all(open.map((host) => host.close()));
    await sshd?.stop();
  });

  test('exec keeps the last MiB of a command that prints 150 MB, names the bytes it dropped, and stays small', async () => {
    const host = await connect();
    const line = 'a runaway log line, forty bytes: 012345\n';
    const lines = 3_750_000; // 150 MB, as in issue 25
    const rss = { before: process.memoryUsage.rss(), peak: 0 };
    const sampleRss = () => {
      rss.peak = Math.max(rss.peak, process.memoryUsage.rss());
    };
    const sampler = setInterval(sampleRss, 10);
    const result = await host
      .exec(`yes '${line.trimEnd()}' | head -n ${lines}; echo the last line; echo a warning >&2`)
      .finally(() => clearInterval(sampler));
    sampleRss(); // with the result held
    const printed = line.length * lines + 'the last line\n'.length;
    assert.equal(result.code, 0);
    assert.equal(result.stderr, 'a warning\n');
    assert.ok(result.stdout.length <= OUTPUT_TAIL_BYTES, `kept ${result.stdout.length} bytes`);
    assert.ok(result.stdout.length > OUTPUT_TAIL_BYTES - line.length, `kept ${result.stdout.length} bytes`);
    assert.ok(result.stdout.endsWith(`${line}the last line\n`), 'the tail is kept');
    assert.ok(result.stdout.startsWith(line), 'from a whole line');
    assert.equal(result.droppedBytes, printed - result.stdout.length);
    // Holding the whole output would take 150 MB at least; what is left is ssh2's garbage.
    const riseMb = (rss.peak - rss.before) / 1e6;
    console.log(`150 MB through exec: the runner's RSS rose ${riseMb.toFixed(1)} MB`);
    assert.ok(riseMb < 100, `RSS rose ${riseMb.toFixed(1)} MB`);
  });

  test('a command past its time limit is ended on the target with what it started, and exec names it', async () => {
    const host = await connect();
    // `sleep 3600.PID` is this test's own; `[.]` keeps the pattern from matching pgrep's command line.
    const hang = `sleep 3600.${process.pid}`;
    const hanging = () => remoteProcesses(`sleep 3600[.]${process.pid}`);
    // The second ignores SIGTERM (and so do its children): SIGKILL follows it.
    for (const [command, killGraceMs] of [
      [`${hang} & ${hang}`, 0],
      [`trap '' TERM HUP; ${hang} & ${hang}`, KILL_GRACE_SECONDS * 1000],
    ] as const) {
      const started = Date.now();
      const error = await waitFor(
        host.exec(command, { timeLimitMs: 1_500 }).then(
          () => assert.fail('exec should have failed'),
          (caught: unknown) => caught,
        ),
        20_000,
        `the end of ${command}`,
      );
      const elapsedMs = Date.now() - started;
      assert.ok(error instanceof TargetError && error.code === 'command-failed', String(error));
      assert.equal(
        error.message,
        `\`${command}\` did not finish within 1.5 s on 127.0.0.1: loadgate ended it and the processes it started`,
      );
      assert.ok(elapsedMs >= 1_500 && elapsedMs < 2_000 + killGraceMs + 5_000, `ended after ${elapsedMs} ms`);
      await until(() => hanging().length === 0, 2_000, 'no sleep left on the target');
    }
    assert.equal((await host.exec('echo still connected')).stdout, 'still connected\n');
  });

  test("a process that left the command's session and holds its output: exec gives up and says what may remain", async () => {
    const host = await connect();
    const escaped = `sleep 3600.${process.pid}1`;
    // Once the escaped sleep runs (in a session of its own): the command's end ends it otherwise.
    const command = `setsid ${escaped} & until pgrep -x -f '${escaped}' >/dev/null; do sleep 0.1; done`;
    const started = Date.now();
    const error = await waitFor(
      host.exec(command, { timeLimitMs: 1_000 }).then(
        () => assert.fail('exec should have failed'),
        (caught: unknown) => caught,
      ),
      30_000,
      'exec giving up',
    );
    const elapsedMs = Date.now() - started;
    const left = remoteProcesses(`sleep 3600[.]${process.pid}1`);
    for (const line of left) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    assert.ok(error instanceof TargetError && error.code === 'command-failed', String(error));
    assert.equal(
      error.message,
      `\`${command}\` did not finish within 1 s on 127.0.0.1, nor end when signalled: loadgate closed its channel, ` +
        'and processes it started may still run there',
    );
    assert.equal(left.length, 1, 'the escaped sleep is what may remain');
    assert.ok(elapsedMs >= 1_000 + KILL_GRACE_SECONDS * 1000, `gave up after ${elapsedMs} ms`);
  });

  test('a command that ends in time leaves no watchdog behind on the target', async () => {
    const host = await connect();
    // An unusual limit names the watchdog's timer: `sleep 987`. Fast commands race its start-up.
    for (let i = 0; i < 100; i += 1) assert.equal((await host.exec('true', { timeLimitMs: 987_000 })).code, 0);
    await until(() => remoteProcesses('^sleep 98[7]$').length === 0, 2_000, 'no watchdog timer left');
  });

  test("a spawned command's endless line reaches the listener cut, not whole", async () => {
    const host = await connect();
    const printer = host.spawn('head -c 3000000 /dev/zero | tr "\\0" x; echo; echo end');
    const lengths: number[] = [];
    printer.onLine((line) => lengths.push(line.length));
    assert.equal(await waitFor(printer.exited, 20_000, 'the printer exit'), 0);
    assert.deepEqual(lengths, [OUTPUT_TAIL_BYTES, 3]);
  });
});

describe('the target sshd dies while a command runs', { timeout: 60_000 }, () => {
  test('onDisconnect fires, the spawned command reports null, later calls reject; nothing is thrown', async () => {
    const sshd = await startSshd();
    const log = captureLog();
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
    try {
      const host = await connectTarget(sshSettingsOf(sshd), log, { keepaliveIntervalMs: 500 });
      const disconnected = new Promise<Error>((resolve) => host.onDisconnect(resolve));
      const sampler = host.spawn('while :; do echo tick; sleep 0.2; done');
      await waitFor(new Promise<void>((resolve) => sampler.onLine(() => resolve())), 10_000, 'a first line');

      sshd.kill();
      const error = await waitFor(disconnected, 20_000, 'the disconnect notice');
      assert.ok(error instanceof TargetError && error.code === 'connection-lost', String(error));
      assert.match(error.message, /Lost the SSH connection to 127\.0\.0\.1:\d+/);
      assert.equal(await waitFor(sampler.exited, 5_000, 'the sampler end'), null);
      await assert.rejects(
        host.exec('true'),
        (rejection: unknown) => rejection instanceof TargetError && rejection.code === 'connection-lost',
      );
      await sampler.stop(); // stopping what is already gone is fine
      await host.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(uncaught, []);
      assertNoSecrets([...log.messages, error.message], [sshd.privateKey]);
    } finally {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
      await sshd.stop();
    }
  });
});
