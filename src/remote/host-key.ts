// Which host keys we accept for the target, decided from `fingerprint` and `known-hosts` before
// any connection is made. Pure: the SSH module asks `accepts(blob)` from ssh2's hostVerifier.

import { createHash } from 'node:crypto';
import type { SshSettings } from '../config/settings.ts';
import { TargetError } from './target-error.ts';

export interface HostKeyPolicy {
  /** False when `insecure-skip-host-key-check` is the only reason we accept any key. */
  readonly checked: boolean;
  /** The fingerprints we would accept, for the mismatch message. */
  readonly expected: string[];
  accepts(blob: Buffer): boolean;
}

/** `SHA256:` + unpadded base64 of the key blob's SHA-256: what `ssh-keygen -lf` prints. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written inside a key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return length > 0 && length <= 64 && blob.length >= 4 + length ? blob.subarray(4, 4 + length).toString('latin1') : 'unknown';
}

export function hostKeyPolicy(settings: SshSettings): HostKeyPolicy {
  const pinned = new Set(settings.fingerprints.map(normalizeFingerprint));
  const known = parseKnownHosts(settings.knownHosts);
  for (const key of known.accepted) pinned.add(fingerprintOf(key));
  const revoked = new Set(known.revoked.map(fingerprintOf));

  if (pinned.size === 0) {
    if (!settings.insecureSkipHostKeyCheck) throw notPinned(settings);
    return { checked: false, expected: [], accepts: (blob) => !revoked.has(fingerprintOf(blob)) };
  }
  return {
    checked: true,
    expected: [...pinned],
    accepts: (blob) => {
      const fingerprint = fingerprintOf(blob);
      return pinned.has(fingerprint) && !revoked.has(fingerprint);
    },
  };
}

export function hostKeyMismatch(settings: SshSettings, policy: HostKeyPolicy, presented: Buffer): TargetError {
  const got = fingerprintOf(presented);
  const revoked = policy.checked && policy.expected.includes(got);
  return new TargetError(
    'host-key-mismatch',
    `Host key mismatch for ${settings.host}:${settings.port}: the server presented ${got} (${keyTypeOf(presented)})` +
      (revoked
        ? ', which known-hosts marks @revoked'
        : `, expected ${policy.expected.length > 0 ? policy.expected.join(' or ') : 'a key that is not @revoked'}`) +
      '. The connection was closed before logging in; nothing was run on the target. If the host was ' +
      `rebuilt, get its new fingerprint from a trusted machine with \`${keyscanCommand(settings)}\` ` +
      'and update `fingerprint` / `known-hosts`.',
  );
}

function keyscanCommand(settings: SshSettings): string {
  return `ssh-keyscan -p ${settings.port} ${settings.host} | ssh-keygen -lf -`;
}

function notPinned(settings: SshSettings): TargetError {
  return new TargetError(
    'host-key-not-pinned',
    `The host key of ${settings.host} is not pinned: set \`fingerprint\` (or \`known-hosts\`) so loadgate ` +
      'can tell it talks to your host and not to an impostor. Get the fingerprint from a machine you ' +
      `trust with \`${keyscanCommand(settings)}\` and pass the \`SHA256:…\` value(s) it prints. ` +
      'To connect without checking (not recommended) set `insecure-skip-host-key-check: true`.',
  );
}

function normalizeFingerprint(value: string): string {
  const trimmed = value.trim();
  const match = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(trimmed);
  if (!match) {
    throw new TargetError(
      'invalid-setting',
      `fingerprint must be SHA256:… as printed by \`ssh-keygen -lf\` (43 base64 characters), got ${JSON.stringify(trimmed)}`,
    );
  }
  return `SHA256:${match[1]}`;
}

interface KnownHostKeys {
  accepted: Buffer[];
  revoked: Buffer[];
}

/**
 * known_hosts lines: `[@revoked] hostnames type base64 [comment]`, or just `type base64`. The
 * input holds lines for this one host, so the hostnames field is not matched against `host`
 * (a line scanned by name still pins the right key when `host` is an IP address).
 */
function parseKnownHosts(lines: string[]): KnownHostKeys {
  const keys: KnownHostKeys = { accepted: [], revoked: [] };
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    if (marker !== undefined && marker !== '@revoked') {
      throw knownHostsError(index, `${marker} lines are not supported; give the host's own keys`);
    }
    const typeIndex = looksLikeKeyType(fields[0]!) ? 0 : 1;
    const type = fields[typeIndex];
    const base64 = fields[typeIndex + 1];
    if (type === undefined || base64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      throw knownHostsError(index, 'expected `hostnames key-type base64-key`');
    }
    const blob = Buffer.from(base64, 'base64');
    if (keyTypeOf(blob) !== type) {
      throw knownHostsError(index, `the key is not a ${type} key`);
    }
    (marker === '@revoked' ? keys.revoked : keys.accepted).push(blob);
  });
  return keys;
}

function looksLikeKeyType(field: string): boolean {
  return /^(ssh-|ecdsa-|sk-)/.test(field);
}

function knownHostsError(index: number, problem: string): TargetError {
  return new TargetError('invalid-setting', `known-hosts line ${index + 1}: ${problem}`);
}
