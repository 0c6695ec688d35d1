// Which host keys we accept for the target, decided from `fingerprint` and `known-hosts` before
// any connection is made. Pure: the SSH module asks `accepts(blob)` from ssh2's hostVerifier.

import { createHash, createHmac } from 'node:crypto';
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

/** The name ssh looks the target up by in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(settings: Pick<SshSettings, 'host' | 'port'>): string {
  const host = settings.host.toLowerCase();
  return settings.port === 22 ? host : `[${host}]:${settings.port}`;
}

export function hostKeyPolicy(settings: SshSettings): HostKeyPolicy {
  const pinned = new Set(settings.fingerprints.map(normalizeFingerprint));
  const known = parseKnownHosts(settings.knownHosts, knownHostsName(settings));
  for (const key of known.accepted) pinned.add(fingerprintOf(key));
  const revoked = new Set(known.revoked.map(fingerprintOf));

  if (pinned.size === 0) {
    if (!settings.insecureSkipHostKeyCheck) throw notPinned(settings, known);
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

function notPinned(settings: SshSettings, known: KnownHostKeys): TargetError {
  return new TargetError(
    'host-key-not-pinned',
    `The host key of ${settings.host} is not pinned: ${unmatchedKnownHosts(settings, known)}` +
      'set `fingerprint` (or `known-hosts`) so loadgate can tell it talks to your host and not to an impostor. ' +
      `Get the fingerprint from a machine you trust with \`${keyscanCommand(settings)}\` and pass the \`SHA256:…\` value(s) it prints. ` +
      'To connect without checking (not recommended) set `insecure-skip-host-key-check: true`.',
  );
}

/** Why `known-hosts` pinned nothing though it had lines: they name other hosts, or are @cert-authority. */
function unmatchedKnownHosts(settings: SshSettings, known: KnownHostKeys): string {
  const reasons = [];
  if (known.otherHostLines.length) reasons.push(`lines for other hosts: ${known.otherHostLines.join(', ')}`);
  if (known.certAuthorityLines.length) {
    reasons.push(`@cert-authority lines, not supported (give the host's own key): ${known.certAuthorityLines.join(', ')}`);
  }
  if (reasons.length === 0) return '';
  return (
    `\`known-hosts\` has no key for \`${knownHostsName(settings)}\`, the name ssh looks this host up by ` +
    `(\`[host]:port\` when the port is not 22; ${reasons.join('; ')}); `
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
  /** Keys of lines for this host, and of lines without a host field (a host's `.pub` file). */
  accepted: Buffer[];
  /** Keys of `@revoked` lines for any host: a revoked key is compromised whichever host it was listed for. */
  revoked: Buffer[];
  /** 1-based numbers of lines that pinned nothing: for other hosts, or `@cert-authority` for this one. */
  otherHostLines: number[];
  certAuthorityLines: number[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * known_hosts lines: `[@revoked|@cert-authority] hostnames type base64 [comment]`, or just
 * `type base64 [comment]`. A line pins its key only when its hostnames match `name` as ssh
 * matches them, so a whole known_hosts file pasted in trusts this host's keys and no other's.
 */
function parseKnownHosts(lines: string[], name: string): KnownHostKeys {
  const keys: KnownHostKeys = { accepted: [], revoked: [], otherHostLines: [], certAuthorityLines: [] };
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    if (marker !== undefined && marker !== '@revoked' && marker !== '@cert-authority') {
      throw knownHostsError(index, `unknown marker ${marker}; expected \`@revoked\`, \`@cert-authority\` or none`);
    }
    const hostnames = isKeyOfType(fields[1], fields[0]) ? undefined : fields.shift();
    const [type, base64] = fields;
    if (type === undefined || base64 === undefined || !BASE64.test(base64)) {
      throw knownHostsError(index, 'expected `hostnames key-type base64-key`');
    }
    const blob = Buffer.from(base64, 'base64');
    if (keyTypeOf(blob) !== type) throw knownHostsError(index, `the key is not a ${type} key`);
    if (marker === '@revoked') keys.revoked.push(blob);
    else if (hostnames !== undefined && !hostnamesMatch(hostnames, name, index)) keys.otherHostLines.push(index + 1);
    else if (marker === '@cert-authority') keys.certAuthorityLines.push(index + 1);
    else keys.accepted.push(blob);
  });
  return keys;
}

function isKeyOfType(base64: string | undefined, type: string | undefined): boolean {
  return base64 !== undefined && BASE64.test(base64) && keyTypeOf(Buffer.from(base64, 'base64')) === type;
}

/**
 * OpenSSH's rule (match_maybe_hashed): a hashed `|1|salt|hmac` entry matches when the HMAC-SHA1
 * of `name` keyed by the salt is `hmac`; otherwise comma-separated patterns, case-insensitive,
 * with `*` and `?`, any match of a `!`-negated one ruling the line out.
 */
function hostnamesMatch(hostnames: string, name: string, index: number): boolean {
  if (hostnames.startsWith('|')) return hashedNameMatches(hostnames, name, index);
  let matched = false;
  for (const entry of hostnames.toLowerCase().split(',')) {
    const negated = entry.startsWith('!');
    if (!wildcardMatches(negated ? entry.slice(1) : entry, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function wildcardMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(name);
}

const HASHED_NAME = /^\|1\|([A-Za-z0-9+/]+={0,2})\|([A-Za-z0-9+/]+={0,2})$/;
const SHA1_BYTES = 20;

function hashedNameMatches(hostnames: string, name: string, index: number): boolean {
  const match = HASHED_NAME.exec(hostnames);
  const salt = match ? Buffer.from(match[1]!, 'base64') : undefined;
  if (!match || salt?.length !== SHA1_BYTES) {
    throw knownHostsError(index, 'a hashed host name is `|1|salt|hash` (base64, as `ssh-keygen -H` writes it)');
  }
  return createHmac('sha1', salt).update(name).digest('base64') === match[2];
}

function knownHostsError(index: number, problem: string): TargetError {
  return new TargetError('invalid-setting', `known-hosts line ${index + 1}: ${problem}`);
}
