// A real OpenSSH sshd on 127.0.0.1 for tests: generated host key, generated client keys, all in a
// temp dir. Any local account may log in with the client keys (one shared authorized_keys file),
// so tests can also use temporary non-root users.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshSettings } from '../../src/config/settings.ts';
import { MOVE_IN_THEN_EXEC } from './cgroup.ts';

const SSHD = '/usr/sbin/sshd';

export interface SshdOptions {
  /** Host key types to generate; the client negotiates one of them. Default: ed25519. */
  hostKeyTypes?: Array<'ed25519' | 'rsa' | 'ecdsa'>;
  /** Also create a passphrase-protected client key (authorized too). */
  encryptedKeyPassphrase?: string;
  /** Wait this long for sshd to listen. Default 15 s. */
  startTimeoutMs?: number;
  /** Cgroups' `cgroup.procs` files: sshd starts in them, so every session (and what it runs) is in them too. */
  cgroupProcs?: string | readonly string[];
  /**
   * Sessions skip the login shell's ~/.bashrc. Root's here starts pyenv, which costs each session a
   * good part of a second of CPU; a host's login shell starts in milliseconds, and what runs on the
   * host right after a burst depends on that.
   */
  skipBashrc?: boolean;
}

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  username: 'root';
  /** OpenSSH private key text of an authorized client key (no passphrase). */
  privateKey: string;
  /** An authorized key encrypted with `encryptedKeyPassphrase` (when asked for). */
  encryptedPrivateKey?: string;
  passphrase?: string;
  /** A valid key that is NOT authorized. */
  unauthorizedPrivateKey: string;
  /** `SHA256:…` per host key, as `ssh-keygen -lf` prints it; the first is `hostKeyFingerprint`. */
  hostKeyFingerprints: string[];
  hostKeyFingerprint: string;
  /** known_hosts lines (`[127.0.0.1]:PORT type base64`), one per host key. */
  knownHostsLines: string[];
  knownHostsLine: string;
  /** sshd's own log (stderr, LogLevel VERBOSE). */
  log(): string;
  /** SIGKILL the listener and every session it forked (a crash of the target's sshd). */
  kill(): void;
  /** Ends sshd and its sessions and deletes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The action's inputs that point it at this sshd, as a workflow would give them, with `swap: off`
 * (this machine has no swap, which `verify` would rightly refuse).
 */
/** The SSH settings that connect to this sshd, pinned to its host key (root unless `overrides` says). */
export function sshSettingsOf(sshd: Sshd, overrides: Partial<SshSettings> = {}): SshSettings {
  return {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.privateKey,
    fingerprints: [sshd.hostKeyFingerprint],
    knownHosts: [],
    insecureSkipHostKeyCheck: false,
    ...overrides,
  };
}

export function targetInputs(sshd: Sshd): Record<'host' | 'port' | 'username' | 'key' | 'fingerprint' | 'swap', string> {
  return {
    host: sshd.host,
    port: String(sshd.port),
    username: sshd.username,
    key: sshd.privateKey,
    fingerprint: sshd.hostKeyFingerprint,
    swap: 'off',
  };
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'loadgate-sshd-'));
  // sshd reads authorized_keys as the logging-in user: temporary non-root users must reach it.
  chmodSync(dir, 0o755);
  let child: ChildProcess | undefined;
  try {
    const hostKeyTypes = options.hostKeyTypes ?? ['ed25519'];
    const hostKeys = hostKeyTypes.map((type) => generateKey(dir, `host_${type}`, type, ''));
    const client = generateKey(dir, 'client', 'ed25519', '');
    const stranger = generateKey(dir, 'stranger', 'ed25519', '');
    const encrypted =
      options.encryptedKeyPassphrase === undefined
        ? undefined
        : generateKey(dir, 'client_encrypted', 'ed25519', options.encryptedKeyPassphrase);

    const authorized = [client, encrypted].filter((key) => key !== undefined).map((key) => key.publicLine);
    const authorizedKeysPath = join(dir, 'authorized_keys');
    writeFileSync(authorizedKeysPath, `${authorized.join('\n')}\n`, { mode: 0o644 });
    chmodSync(authorizedKeysPath, 0o644);

    // Privilege separation needs this directory; a fresh container may not have it yet.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    clearStalePyenvLock();

    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    writeFileSync(
      configPath,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        ...hostKeys.map((key) => `HostKey ${key.privatePath}`),
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeysPath}`,
        'StrictModes no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'MaxStartups 50',
        'MaxSessions 50',
        'LogLevel VERBOSE',
        // bash sources ~/.bashrc for an sshd command only as a top-level shell (SHLVL below 2).
        ...(options.skipBashrc ? ['SetEnv SHLVL=1'] : []),
        '',
      ].join('\n'),
    );

    let log = '';
    const command = [SSHD, '-D', '-e', '-f', configPath];
    const started = options.cgroupProcs
      ? spawn('sh', ['-c', MOVE_IN_THEN_EXEC, 'sh', ...[options.cgroupProcs].flat(), '--', ...command], {
          stdio: ['ignore', 'ignore', 'pipe'],
        })
      : spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    started.stderr!.setEncoding('utf8');
    started.stderr!.on('data', (chunk: string) => {
      log += chunk;
    });
    await waitForListening(started, () => log, port, options.startTimeoutMs ?? 15_000);

    const fingerprints = hostKeys.map((key) => fingerprintOf(key.publicPath));
    const knownHostsLines = hostKeys.map((key) => `[127.0.0.1]:${port} ${key.publicLine}`);
    let stopped = false;
    const killTree = (signal: NodeJS.Signals) => {
      for (const pid of descendantsOf(started.pid!)) signalQuietly(pid, signal);
      signalQuietly(started.pid!, signal);
    };
    return {
      host: '127.0.0.1',
      port,
      username: 'root',
      privateKey: client.privateText,
      encryptedPrivateKey: encrypted?.privateText,
      passphrase: options.encryptedKeyPassphrase,
      unauthorizedPrivateKey: stranger.privateText,
      hostKeyFingerprints: fingerprints,
      hostKeyFingerprint: fingerprints[0]!,
      knownHostsLines,
      knownHostsLine: knownHostsLines[0]!,
      log: () => log,
      kill: () => killTree('SIGKILL'),
      async stop() {
        if (stopped) return;
        stopped = true;
        if (started.exitCode === null && started.signalCode === null) {
          const exited = new Promise((resolve) => started.once('exit', resolve));
          killTree('SIGTERM');
          await exited;
        }
        // Sessions outlive the listener; they were children of it and are gone with the tree.
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child?.pid !== undefined) signalQuietly(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

interface GeneratedKey {
  privatePath: string;
  publicPath: string;
  privateText: string;
  publicLine: string;
}

function generateKey(dir: string, name: string, type: string, passphrase: string): GeneratedKey {
  const privatePath = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', privatePath], { stdio: 'ignore' });
  const publicPath = `${privatePath}.pub`;
  const publicLine = readFileSync(publicPath, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  return { privatePath, publicPath, privateText: readFileSync(privatePath, 'utf8'), publicLine };
}

function fingerprintOf(publicPath: string): string {
  const line = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicPath], { encoding: 'utf8' });
  const fingerprint = line.split(/\s+/)[1];
  if (!fingerprint?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${line}`);
  return fingerprint;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port from the kernel');
  return address.port;
}

async function waitForListening(child: ChildProcess, log: () => string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!log().includes(`Server listening on 127.0.0.1 port ${port}`)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`sshd exited before listening:\n${log()}`);
    }
    if (Date.now() > deadline) throw new Error(`sshd did not listen within ${timeoutMs} ms:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every process below `root` in the process tree, read from /proc (deepest last). */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(parent) ?? [];
    list.push(Number(entry));
    children.set(parent, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Every root session here runs root's .bashrc, whose `pyenv init` rehashes under a lock file. A test
 * that kills a session mid-rehash (sshd killed mid-run) leaves the lock behind, and each later
 * session then waits 60 s for it: the next suite times out. A rehash takes well under a second, so
 * a lock older than 10 s has no living holder.
 */
function clearStalePyenvLock(): void {
  const lock = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'shims', '.pyenv-shim');
  try {
    if (Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { force: true });
  } catch {
    // no pyenv, or no lock: nothing to clear
  }
}
