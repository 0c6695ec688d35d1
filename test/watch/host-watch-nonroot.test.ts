// The host watch over SSH as an ordinary user, as on most targets: /proc is readable by anyone,
// the kernel log (dmesg_restrict=1 here, no journald) only through sudo.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLog } from '../../src/log.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { countsOomKillWithoutKernelLog, reportsRealOomKill, samplesRealProc } from './host-watch-scenarios.ts';

const USER = `lgwatch${process.pid}`;
const SUDOERS = `/etc/sudoers.d/loadgate-watch-test-${process.pid}`;

describe('host watch over SSH as a user who is not root', { timeout: 240_000 }, () => {
  let sshd: Sshd | undefined;
  const hosts: RemoteHost[] = [];
  const connect = async () => {
    const host = await connectTarget(
      {
        host: sshd!.host,
        port: sshd!.port,
        username: USER,
        privateKey: sshd!.privateKey,
        fingerprints: [sshd!.hostKeyFingerprint],
        knownHosts: [],
        insecureSkipHostKeyCheck: false,
      },
      silentLog,
    );
    hosts.push(host);
    assert.equal(host.isRoot, false);
    return host;
  };

  before(async () => {
    execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', USER]);
    // A locked password ("!") makes sshd without PAM refuse even key logins.
    execFileSync('usermod', ['-p', '*', USER]);
    sshd = await startSshd();
  });

  after(async () => {
    for (const host of hosts) await host.close().catch(() => undefined);
    await sshd?.stop();
    rmSync(SUDOERS, { force: true });
    await removeUser();
  });

  test('samples the real /proc as an ordinary user', { timeout: 30_000 }, async () => samplesRealProc(await connect()));

  test('without sudo: the kill is counted from /proc/vmstat and the unreadable kernel log is said', { timeout: 60_000 }, async () =>
    countsOomKillWithoutKernelLog(await connect()),
  );

  test('with passwordless sudo: dmesg through sudo names the killed process', { timeout: 60_000 }, async () => {
    writeFileSync(SUDOERS, `${USER} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    await reportsRealOomKill(await connect());
  });
});

/** sshd's session processes for the user may still be exiting when sshd has stopped. */
async function removeUser(): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      execFileSync('userdel', [USER], { stdio: 'pipe' });
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await sleep(100);
    }
  }
}
