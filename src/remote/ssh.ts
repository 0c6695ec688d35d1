// The one SSH connection to the target, behind the RemoteHost interface, on ssh2's public API.
// The host key is checked inside the handshake, before we authenticate or run anything.
//
// ssh2 directly rather than node-ssh: what this needs is ssh2's own API (hostVerifier with the
// raw key blob, keepalive, exec channels streamed both ways and closed on demand, exit codes that
// may be null) and node-ssh only passes it through. Its connect() also drops its error listener
// once ready (a dropped link then crashes the process, node-ssh issue 421), so we had to drive
// its ssh2 client underneath it anyway. Here the client is ours from the start: our error
// listener is on it before connect() and stays for the whole run.

import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { SshSettings } from '../config/settings.ts';
import type { Log } from '../log.ts';
import { seconds } from '../units.ts';
import { OutputTail } from './output-tail.ts';
import {
  DEFAULT_EXEC_TIME_LIMIT_MS,
  OUTPUT_TAIL_BYTES,
  type ExecOptions,
  type ExecResult,
  type RemoteHost,
  type RemoteProcess,
  type SpawnOptions,
} from './remote-host.ts';
import { fingerprintOf, hostKeyMismatch, hostKeyPolicy, keyTypeOf } from './host-key.ts';
import { endAfter, endOnStdinEof, KILL_GRACE_SECONDS, remoteCommand, type Elevation } from './shell.ts';
import { TargetError } from './target-error.ts';

export interface ConnectOptions {
  /** Give up when the SSH handshake has not finished after this long. Default 20 s. */
  connectTimeoutMs?: number;
  /** Keepalive probe interval; the link counts as dropped after KEEPALIVE_COUNT_MAX unanswered. Default 10 s. */
  keepaliveIntervalMs?: number;
}

/**
 * A host thrashing before an OOM kill leaves its sshd unscheduled for tens of seconds: 3 probes 5 s
 * apart dropped the link on the 1 GiB VM while the host lived on. Six 10 s apart allow a minute.
 */
const KEEPALIVE_COUNT_MAX = 6;

/** How long `stop()` waits for a command to end on stdin EOF before closing its channel anyway. */
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_CHARS = 4_096;
const COMMAND_LABEL_CHARS = 100;
/** After the watchdog's SIGKILL, for the target's rounding up to whole seconds and the channel's close to arrive. */
const END_MARGIN_MS = 5_000;

type SshError = Error & { code?: string; level?: string };

export async function connectTarget(settings: SshSettings, log: Log, options: ConnectOptions = {}): Promise<RemoteHost> {
  const policy = hostKeyPolicy(settings);
  const scrub = secretScrubber(settings);
  let presented: Buffer | undefined;
  let rejectedKey = false;

  const client = new Client();
  // For the whole run, so that a dropped link (ECONNRESET) is recorded, never an uncaught error.
  const errors: Error[] = [];
  client.on('error', (error: Error) => errors.push(error));
  try {
    await handshake(client, {
      host: settings.host,
      port: settings.port,
      username: settings.username,
      privateKey: settings.privateKey,
      passphrase: settings.passphrase === '' ? undefined : settings.passphrase,
      readyTimeout: options.connectTimeoutMs ?? 20_000,
      keepaliveInterval: options.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      hostVerifier: (blob: Buffer) => {
        presented = blob;
        rejectedKey = !policy.accepts(blob);
        return !rejectedKey;
      },
    });
  } catch (error) {
    client.end();
    if (rejectedKey && presented) throw hostKeyMismatch(settings, policy, presented);
    throw connectError(settings, error as SshError, options, scrub);
  }
  if (!presented) {
    client.end();
    throw new TargetError('connection-failed', `Connected to ${settings.host}:${settings.port} without seeing its host key`);
  }

  const fingerprint = fingerprintOf(presented);
  if (!policy.checked) {
    log.warning(
      `insecure-skip-host-key-check: accepted the host key of ${settings.host}:${settings.port} without checking it: ` +
        `${fingerprint} (${keyTypeOf(presented)}). Pin it with \`fingerprint: ${fingerprint}\`.`,
    );
  }
  const target = new SshTarget(client, settings, fingerprint, errors, scrub);
  const id = await target.exec('id -u');
  if (id.code !== 0) {
    await target.close();
    throw new TargetError('command-failed', `\`id -u\` failed on ${settings.host}: ${scrub(id.stderr.trim())}`);
  }
  target.isRoot = id.stdout.trim() === '0';
  log.info(
    `Connected to ${settings.username}@${settings.host}:${settings.port} (host key ${fingerprint}` +
      `${policy.checked ? ', pinned' : ', NOT checked'}; ${target.isRoot ? 'root' : 'not root, privileged commands use sudo'})`,
  );
  return target;
}

class SshTarget implements RemoteHost {
  isRoot = false;
  private lost: TargetError | undefined;
  private closing = false;
  private readonly disconnectListeners: Array<(error: Error) => void> = [];
  private readonly closed: Promise<void>;
  private elevationProbe: Promise<Elevation> | undefined;

  constructor(
    private readonly client: Client,
    private readonly settings: SshSettings,
    readonly hostKeyFingerprint: string,
    errors: Error[],
    private readonly scrub: (text: string) => string,
  ) {
    // Synchronous, so that `lost` is set before ssh2 closes the open channels right after.
    this.closed = new Promise((resolve) =>
      client.once('close', () => {
        if (!this.closing) {
          const cause = errors.at(-1);
          this.lost = new TargetError(
            'connection-lost',
            `Lost the SSH connection to ${settings.host}:${settings.port}${cause ? ` (${scrub(cause.message)})` : ''}`,
          );
          for (const listener of this.disconnectListeners) listener(this.lost);
        }
        resolve();
      }),
    );
  }

  onDisconnect(listener: (error: Error) => void): void {
    this.disconnectListeners.push(listener);
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const elevation = options.sudo ? await this.elevation() : 'none';
    const limitMs = options.timeLimitMs ?? DEFAULT_EXEC_TIME_LIMIT_MS;
    // Set before the channel opens, so it passes before the target's watchdog (started later, with
    // whole seconds rounded up) can end the command: a command that ends after it overran.
    const deadline = Date.now() + limitMs;
    const { channel, code } = await this.openChannel(remoteCommand(endAfter(command, Math.ceil(limitMs / 1000)), elevation));
    const stdout = new OutputTail(OUTPUT_TAIL_BYTES);
    const stderr = new OutputTail(OUTPUT_TAIL_BYTES);
    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    channel.end(this.stdinFor(elevation, options.stdin));
    // The target ends an overrunning command by itself; should that fail (a process that left
    // its session and holds the output open), we stop waiting and close the channel.
    let abandoned = false;
    const giveUp = setTimeout(
      () => {
        abandoned = true;
        channel.close();
      },
      deadline - Date.now() + KILL_GRACE_SECONDS * 1000 + END_MARGIN_MS,
    );
    const exitCode = await code;
    clearTimeout(giveUp);
    if (exitCode === null && this.lost) throw this.lost;
    if (Date.now() >= deadline) {
      const what = `\`${this.scrub(commandLabel(command))}\` did not finish within ${seconds(limitMs)} on ${this.settings.host}`;
      throw new TargetError(
        'command-failed',
        abandoned
          ? `${what}, nor end when signalled: loadgate closed its channel, and processes it started may still run there`
          : `${what}: loadgate ended it and the processes it started`,
      );
    }
    const out = stdout.result();
    const err = stderr.result();
    const droppedBytes = out.droppedBytes + err.droppedBytes;
    const result = { stdout: out.text, stderr: err.text, code: exitCode, ...(droppedBytes > 0 && { droppedBytes }) };
    if (elevation !== 'none' && result.code !== 0) this.throwIfSudoRefused(result.stderr);
    return result;
  }

  spawn(command: string, options: SpawnOptions = {}): RemoteProcess {
    const lineListeners: Array<(line: string) => void> = [];
    let channel: ClientChannel | undefined;
    let stopRequested = false;
    let stderrTail = ''; // only sudo's complaint matters; a chatty sampler must not grow it forever

    const run = async (): Promise<number | null> => {
      const elevation = options.sudo ? await this.elevation() : 'none';
      const { channel: opened, code } = await this.openChannel(remoteCommand(endOnStdinEof(command), elevation));
      channel = opened;
      let partial = '';
      opened.setEncoding('utf8');
      opened.on('data', (chunk: string) => {
        // Lines are passed on, never kept; but a line without end would grow here: it is cut.
        const lines = (partial + chunk).split('\n').map((line) => line.slice(0, OUTPUT_TAIL_BYTES));
        partial = lines.pop()!;
        for (const line of lines) for (const listener of lineListeners) listener(line);
      });
      opened.stderr.on('data', (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      });
      // The sudo password line is all we ever write; stdin stays open until stop().
      if (elevation === 'sudo-with-password') opened.write(this.stdinFor(elevation, undefined));
      if (stopRequested) opened.end();
      const exitCode = await code;
      if (partial !== '') for (const listener of lineListeners) listener(partial);
      if (elevation !== 'none' && exitCode !== 0 && !stopRequested) {
        this.throwIfSudoRefused(stderrTail);
      }
      return exitCode;
    };
    const exited = run();
    // A command that cannot start rejects `exited`; mark it handled so nobody gets an
    // unhandled rejection for a process they only meant to stop.
    exited.catch(() => {});

    return {
      onLine: (listener) => {
        lineListeners.push(listener);
      },
      exited,
      stop: async () => {
        stopRequested = true;
        channel?.end();
        const settled = exited.then(
          () => true,
          () => true,
        );
        const ended = await Promise.race([settled, delay(STOP_GRACE_MS).then(() => false)]);
        if (!ended) {
          channel?.close();
          await settled;
        }
      },
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.client.end();
    await Promise.race([this.closed, delay(STOP_GRACE_MS)]);
  }

  /** Resolved once per connection: whether sudo works without a password, or needs ours. */
  private elevation(): Promise<Elevation> {
    if (this.isRoot) return Promise.resolve('none');
    this.elevationProbe ??= this.probeSudo();
    return this.elevationProbe;
  }

  private async probeSudo(): Promise<Elevation> {
    const passwordless = await this.trySudo('sudo');
    if (passwordless.code === 0) return 'sudo';
    let refusal = passwordless.stderr;
    // The password is tried here, once, with stdin closed after it: a command that keeps stdin
    // open (the lock, the sampler) would leave a refused `sudo -S` asking again until it timed out.
    if (/password is required/.test(refusal) && this.settings.sudoPassword) {
      const withPassword = await this.trySudo('sudo-with-password');
      if (withPassword.code === 0) return 'sudo-with-password';
      refusal = withPassword.stderr;
    }
    this.throwIfSudoRefused(refusal);
    throw new TargetError(
      'command-failed',
      `sudo does not work for ${this.settings.username} on ${this.settings.host}: ${this.scrub(refusal.trim())}`,
    );
  }

  /** `true` through sudo: its exit code and what sudo said. */
  private async trySudo(elevation: Elevation): Promise<{ code: number | null; stderr: string }> {
    const { channel, code } = await this.openChannel(remoteCommand('true', elevation));
    const stderr: Buffer[] = [];
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    channel.resume();
    channel.end(this.stdinFor(elevation, undefined));
    return { code: await code, stderr: Buffer.concat(stderr).toString('utf8') };
  }

  private throwIfSudoRefused(stderr: string): void {
    const { username, host } = this.settings;
    if (/password is required/.test(stderr)) {
      throw new TargetError(
        'sudo-password-required',
        `sudo on ${host} asks ${username} for a password: set the \`sudo-password\` input (a secret), ` +
          `or allow ${username} passwordless sudo, or connect as root.`,
      );
    }
    if (/incorrect password|Sorry, try again/.test(stderr)) {
      throw new TargetError('sudo-password-rejected', `sudo on ${host} rejected the \`sudo-password\` given for ${username}.`);
    }
    if (/not in the sudoers|not allowed to execute|may not run sudo/.test(stderr)) {
      throw new TargetError('command-failed', `${username} may not use sudo on ${host}: connect as root or grant ${username} sudo.`);
    }
    if (/sudo: (command )?not found/.test(stderr)) {
      throw new TargetError('command-failed', `sudo is not installed on ${host}: connect as root or install sudo.`);
    }
  }

  private stdinFor(elevation: Elevation, stdin: string | undefined): string {
    const password = elevation === 'sudo-with-password' ? `${this.settings.sudoPassword}\n` : '';
    return password + (stdin ?? '');
  }

  /**
   * The channel, and its exit code watched from the moment it opens: the status of a command that
   * ends at once can come in the same read as the reply to the exec request, before any await returns.
   */
  private openChannel(command: string): Promise<{ channel: ClientChannel; code: Promise<number | null> }> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise((resolve, reject) => {
      const fail = (error: Error) =>
        reject(
          this.lost ??
            new TargetError('command-failed', `Could not start a command on ${this.settings.host}: ${this.scrub(error.message)}`),
        );
      try {
        this.client.exec(command, (error, channel) => (error ? fail(error) : resolve({ channel, code: exitCodeOf(channel) })));
      } catch (error) {
        fail(error as Error); // ssh2 throws "Not connected" synchronously
      }
    });
  }
}

/** Resolves once the client is authenticated; rejects with ssh2's error, or when the server hangs up first. */
function handshake(client: Client, config: ConnectConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      client.off('ready', settle).off('error', settle).off('close', hungUp);
      if (error) reject(error);
      else resolve();
    };
    const hungUp = () => settle(new Error('the server closed the connection before the SSH handshake finished'));
    client.once('ready', settle).once('error', settle).once('close', hungUp);
    client.connect(config); // throws "Cannot parse privateKey" synchronously: the promise rejects with it
  });
}

/** The command's exit code once its channel closes; null when the server sent none. */
function exitCodeOf(channel: ClientChannel): Promise<number | null> {
  return new Promise((resolve) => {
    let code: number | null = null;
    channel.on('exit', (exitCode: number | null) => {
      code = typeof exitCode === 'number' ? exitCode : null;
    });
    channel.on('close', () => resolve(code));
  });
}

function connectError(settings: SshSettings, error: SshError, options: ConnectOptions, scrub: (text: string) => string): TargetError {
  const where = `${settings.host}:${settings.port}`;
  const reason = scrub(error.message);
  if (/^Cannot parse privateKey|does not contain a \(valid\) private key/.test(error.message)) {
    if (/no passphrase given/.test(error.message)) {
      return new TargetError('passphrase-missing', 'The SSH `key` is encrypted: set the `passphrase` input (a secret).');
    }
    if (/Bad passphrase|integrity check failed|bad decrypt/i.test(error.message)) {
      return new TargetError('passphrase-wrong', 'The `passphrase` does not decrypt the SSH `key`.');
    }
    return new TargetError(
      'bad-key-format',
      `The \`key\` input is not a private key loadgate can read (${reason.replace(/^Cannot parse privateKey: /, '')}). ` +
        'Paste the whole private key file, BEGIN and END lines included (OpenSSH or PEM format).',
    );
  }
  switch (error.code) {
    case 'ECONNREFUSED':
      return new TargetError('connection-refused', `Connection refused by ${where}: is sshd running there, and is \`port\` right?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TargetError(
        'dns-failure',
        `Cannot resolve the host name ${JSON.stringify(settings.host)} (${error.code}): check the \`host\` input.`,
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      if (error.level === 'client-socket') {
        return new TargetError('connect-timeout', `Cannot reach ${where} (${error.code}): check \`host\`, \`port\` and the firewall.`);
      }
  }
  if (error.level === 'client-timeout') {
    const seconds = Math.round((options.connectTimeoutMs ?? 20_000) / 1000);
    return new TargetError('connect-timeout', `No SSH handshake with ${where} within ${seconds} s: is it an SSH server, and reachable?`);
  }
  if (error.level === 'client-authentication') {
    return new TargetError(
      'auth-rejected',
      `${where} rejected the SSH key for user ${JSON.stringify(settings.username)}: check \`username\`, and that ` +
        `the key's public half is in that user's ~/.ssh/authorized_keys.`,
    );
  }
  return new TargetError('connection-failed', `SSH connection to ${where} failed: ${reason}`);
}

/** Removes secret values from text that came from ssh2 or the target before it reaches a message. */
function secretScrubber(settings: SshSettings): (text: string) => string {
  const secrets = [
    settings.passphrase,
    settings.sudoPassword,
    ...settings.privateKey.split('\n').filter((line) => line.trim().length >= 16),
  ].filter((secret): secret is string => secret !== undefined && secret !== '');
  return (text) => secrets.reduce((clean, secret) => clean.split(secret).join('***'), text);
}

/** A command as an error names it: its first line, shortened. */
function commandLabel(command: string): string {
  const firstLine = command.trim().split('\n')[0]!;
  const label = firstLine.length > COMMAND_LABEL_CHARS ? `${firstLine.slice(0, COMMAND_LABEL_CHARS - 1)}…` : firstLine;
  return command.trim().includes('\n') ? `${label} …` : label;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
