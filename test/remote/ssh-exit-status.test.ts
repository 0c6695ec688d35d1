// A command that ends at once, on a host whose login shell starts at once: its exit status can come
// in the same read as the server's reply to the exec request. Seen as "`id -u` failed on …" with
// nothing on stderr, on a loopback sshd whose sessions skip root's ~/.bashrc.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { captureLog } from '../support/capture-log.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

describe('the exit status of a command that ends at once', { timeout: 60_000 }, () => {
  let sshd: Sshd;
  let host: RemoteHost;
  before(async () => {
    sshd = await startSshd({ skipBashrc: true });
    host = await connectTarget(
      {
        host: sshd.host,
        port: sshd.port,
        username: 'root',
        privateKey: sshd.privateKey,
        fingerprints: [sshd.hostKeyFingerprint],
        knownHosts: [],
        insecureSkipHostKeyCheck: false,
      },
      captureLog(),
    );
  });
  after(async () => {
    await host?.close();
    await sshd?.stop();
  });

  test('is kept when the client reads the reply and the exit together (a busy event loop)', async () => {
    // Busy turns of the event loop, as during a load burst, let the server's packets pile up.
    const busy = setInterval(() => {
      const until = performance.now() + 30;
      while (performance.now() < until);
    }, 1);
    try {
      const codes: Array<number | null> = [];
      for (let i = 0; i < 20; i += 1) codes.push((await host.exec('exit 3')).code);
      assert.deepEqual(codes, Array(20).fill(3));
    } finally {
      clearInterval(busy);
    }
  });
});
