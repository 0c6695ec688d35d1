// Which known-hosts lines pin the target's key: ours against OpenSSH's own matching
// (`ssh-keygen -F`), on lines and hashed lines written by ssh-keygen. The loopback sshd
// checks the same end to end in test/remote/ssh.test.ts.

import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import type { SshSettings } from '../../src/config/settings.ts';
import { fingerprintOf, hostKeyPolicy, knownHostsName } from '../../src/remote/host-key.ts';
import { TargetError } from '../../src/remote/target-error.ts';
import { hashedKnownHosts, newPublicKey, openSshMatches } from '../support/known-hosts.ts';

type Key = ReturnType<typeof newPublicKey>;

function settings(host: string, port: number, knownHosts: string[], overrides: Partial<SshSettings> = {}): SshSettings {
  return { host, port, username: 'deploy', privateKey: '', fingerprints: [], knownHosts, insecureSkipHostKeyCheck: false, ...overrides };
}

/** The keys among `keys` that the policy for host:port accepts; none when nothing is pinned. */
function acceptedKeys(host: string, port: number, knownHosts: string[], keys: Key[]): Key[] {
  try {
    const policy = hostKeyPolicy(settings(host, port, knownHosts));
    return keys.filter((key) => policy.accepts(key.blob));
  } catch (error) {
    assert.ok(error instanceof TargetError && error.code === 'host-key-not-pinned', String(error));
    return [];
  }
}

function refusal(run: () => unknown): TargetError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof TargetError, String(error));
    return error;
  }
  assert.fail('expected a TargetError');
}

describe('known-hosts: a line pins its key only for the host it names (issue 25)', { timeout: 60_000 }, () => {
  const keys: Key[] = [];
  let lines: string[];

  before(() => {
    for (let i = 0; i < 9; i++) keys.push(newPublicKey());
    const hashed = hashedKnownHosts([`staging.example.com ${keys[6]!.line}`, `[staging.example.com]:2222 ${keys[7]!.line}`]);
    assert.ok(
      hashed.every((line) => line.startsWith('|1|')),
      hashed.join('\n'),
    );
    lines = [
      `staging.example.com ${keys[0]!.line}`,
      `[staging.example.com]:2222 ${keys[1]!.line}`,
      `*.example.com,!db.example.com ${keys[2]!.line} wildcard with a negation`,
      `10.0.0.? ${keys[3]!.line}`,
      `[127.0.0.1]:2222,other.example.com ${keys[4]!.line}`,
      `Other.Example.COM ${keys[5]!.line}`,
      ...hashed,
      `[10.0.0.*]:2* ${keys[8]!.line}`,
    ];
  });

  it('takes the lines OpenSSH takes, for plain, [host]:port, wildcard, negated and hashed names', () => {
    const targets: Array<[string, number]> = [
      ['staging.example.com', 22],
      ['STAGING.example.com', 22],
      ['staging.example.com', 2222],
      ['db.example.com', 22],
      ['other.example.com', 22],
      ['127.0.0.1', 2222],
      ['127.0.0.1', 22],
      ['10.0.0.5', 22],
      ['10.0.0.15', 22],
      ['10.0.0.5', 2022],
      ['unknown.example.org', 22],
    ];
    const lineOf = (key: Key) => lines.find((line) => line.includes(key.line))!;
    let matchedSomewhere = 0;
    for (const [host, port] of targets) {
      const ours = acceptedKeys(host, port, lines, keys).map(lineOf);
      const openSsh = openSshMatches(lines, knownHostsName({ host, port }));
      assert.deepEqual(ours, openSsh, `${host}:${port}`);
      matchedSomewhere += ours.length;
    }
    assert.ok(matchedSomewhere >= 10, 'the table exercises matches, not only misses');
    assert.deepEqual(acceptedKeys('staging.example.com', 22, lines, keys), [keys[0], keys[2], keys[6]]);
    assert.deepEqual(acceptedKeys('staging.example.com', 2222, lines, keys), [keys[1], keys[7]]);
  });

  it('does not trust a key pasted under another host name, and says which name it looked for', () => {
    const foreign = [`[staging.example.com]:2222 ${keys[0]!.line}`, `staging.example.com ${keys[1]!.line}`];
    const error = refusal(() => hostKeyPolicy(settings('db.example.com', 2222, foreign)));
    assert.equal(error.code, 'host-key-not-pinned');
    assert.match(error.message, /`known-hosts` has no key for `\[db\.example\.com\]:2222`, the name ssh looks this host up by/);
    assert.match(error.message, /lines for other hosts: 1, 2/);
    // With another pin, the foreign lines pin nothing: only the fingerprint's key is accepted.
    const policy = hostKeyPolicy(settings('db.example.com', 2222, foreign, { fingerprints: [fingerprintOf(keys[2]!.blob)] }));
    assert.deepEqual(policy.expected, [fingerprintOf(keys[2]!.blob)]);
    assert.equal(policy.accepts(keys[0]!.blob), false);
  });

  it('refuses a @revoked key whatever host its line names, and never pins it', () => {
    const own = `staging.example.com ${keys[0]!.line}`;
    const revokedHere = hostKeyPolicy(settings('staging.example.com', 22, [own, `@revoked staging.example.com ${keys[0]!.line}`]));
    assert.equal(revokedHere.accepts(keys[0]!.blob), false);
    const revokedElsewhere = hostKeyPolicy(settings('staging.example.com', 22, [own, `@revoked db.example.com ${keys[0]!.line}`]));
    assert.equal(revokedElsewhere.accepts(keys[0]!.blob), false, 'a revoked key is compromised wherever it was listed');
    const onlyRevoked = refusal(() => hostKeyPolicy(settings('staging.example.com', 22, [`@revoked * ${keys[1]!.line}`])));
    assert.equal(onlyRevoked.code, 'host-key-not-pinned');
  });

  it('ignores @cert-authority lines, and names them when they are all known-hosts has for the host', () => {
    const authority = `@cert-authority *.example.com ${keys[3]!.line}`;
    const withOwnKey = hostKeyPolicy(settings('staging.example.com', 22, [authority, `staging.example.com ${keys[0]!.line}`]));
    assert.deepEqual(withOwnKey.expected, [fingerprintOf(keys[0]!.blob)]);
    const error = refusal(() => hostKeyPolicy(settings('staging.example.com', 22, [authority])));
    assert.equal(error.code, 'host-key-not-pinned');
    assert.match(error.message, /@cert-authority lines, not supported \(give the host's own key\): 1/);
  });

  it("pins a bare `type key` line (a host's .pub file) for whatever host, like `fingerprint`", () => {
    const policy = hostKeyPolicy(settings('staging.example.com', 2222, [`${keys[4]!.line} root@staging`]));
    assert.equal(policy.accepts(keys[4]!.blob), true);
  });

  it('refuses a malformed hashed name, naming the line', () => {
    const error = refusal(() => hostKeyPolicy(settings('staging.example.com', 22, ['# mine', `|1|c2FsdA==|aGFzaA== ${keys[0]!.line}`])));
    assert.equal(error.code, 'invalid-setting');
    assert.match(error.message, /known-hosts line 2: a hashed host name is `\|1\|salt\|hash`/);
  });
});
