// The host watch over the real SSH transport, against the loopback sshd on this machine: its real
// /proc and kernel.
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../src/log.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { reportsRealOomKill, reportsWorkerCrash, samplesRealProc } from './host-watch-scenarios.ts';

describe('host watch over SSH to the loopback sshd', { timeout: 180_000 }, () => {
  let sshd: Sshd | undefined;
  let host: RemoteHost | undefined;

  before(async () => {
    sshd = await startSshd();
    host = await connectTarget(
      {
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        privateKey: sshd.privateKey,
        fingerprints: [sshd.hostKeyFingerprint],
        knownHosts: [],
        insecureSkipHostKeyCheck: false,
      },
      silentLog,
    );
  });

  // The sampler checks run before this: stopping sshd would end leftover sessions and hide them.
  after(async () => {
    await host?.close();
    await sshd?.stop();
  });

  test('samples the real /proc about once a second and leaves no sampler running', { timeout: 30_000 }, () => samplesRealProc(host!));
  test('reports a real OOM kill in a memory cgroup, with the process named', { timeout: 60_000 }, () => reportsRealOomKill(host!));
  test('reports a gunicorn SIGKILL line from the logs-command as a worker crash', { timeout: 30_000 }, () => reportsWorkerCrash(host!));
});
