// known_hosts files written and read by OpenSSH's own ssh-keygen: hashed lines (`ssh-keygen -H`)
// and the lines OpenSSH finds for a name (`ssh-keygen -F`), to check our matching against.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function withKnownHostsFile<T>(lines: readonly string[], use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'loadgate-known-hosts-'));
  try {
    const path = join(dir, 'known_hosts');
    writeFileSync(path, `${lines.join('\n')}\n`);
    return use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The lines as `ssh-keygen -H` rewrites them: each plain host name as `|1|salt|hmac` (patterns stay). */
export function hashedKnownHosts(lines: readonly string[]): string[] {
  return withKnownHostsFile(lines, (path) => {
    execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'ignore' });
    return readFileSync(path, 'utf8').trim().split('\n');
  });
}

/** The lines OpenSSH takes for `name` (`host`, or `[host]:port`), as `ssh-keygen -F` finds them. */
export function openSshMatches(lines: readonly string[], name: string): string[] {
  return withKnownHostsFile(lines, (path) => {
    let output = '';
    try {
      output = execFileSync('ssh-keygen', ['-F', name, '-f', path], { encoding: 'utf8' });
    } catch {
      return []; // exits 1 when no line matches
    }
    return output.split('\n').filter((line) => line && !line.startsWith('#'));
  });
}

/** A fresh ed25519 public key as `ssh-ed25519 base64`, and its blob. */
export function newPublicKey(): { line: string; blob: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'loadgate-key-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')], { stdio: 'ignore' });
    const line = readFileSync(join(dir, 'key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    return { line, blob: Buffer.from(line.split(' ')[1]!, 'base64') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
