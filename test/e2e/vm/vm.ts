/**
 * A real 1 GiB Debian VM for the end-to-end test (issue 7).
 *
 * `buildImage()` runs build-image.sh (cached); `bootVm()` boots the cached image
 * under QEMU/TCG behind a throw-away qcow2 overlay, forwards SSH and the demo app
 * to 127.0.0.1 only, and resolves once sshd answers with the pinned host key and
 * the app answers GET /fast.
 *
 * Nested KVM does not work on the CI machines (see FIELD-NOTES.md), hence
 * `-accel tcg -cpu max`: everything in the guest is ~10x slower than native.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const BUILD_SCRIPT = join(HERE, 'build-image.sh');

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status of the remote command; 255 when ssh itself failed. */
  code: number;
}

export interface ExecOptions {
  /** Written to the remote command's stdin (e.g. `cat > file`). */
  input?: string;
  /** Reject when the command has not finished by then. Default 300 s. */
  timeoutMs?: number;
}

export interface BootOptions {
  /** Directory printed by build-image.sh (image.raw, vmlinuz, initrd.img, keys). */
  cacheDir: string;
  /** Host port on 127.0.0.1 forwarded to the guest's :22. Default: a free port. */
  sshPort?: number;
  /** Host port on 127.0.0.1 forwarded to the guest's :8000 (gunicorn). Default: a free port. */
  appPort?: number;
  /** Guest RAM. Default 1024 (the guest then reports ~972 MB total). */
  memoryMiB?: number;
  /** Give up booting after this long. Default 120 s. */
  bootTimeoutMs?: number;
  /** Appended to the kernel command line. Default: DEFAULT_KERNEL_ARGS. */
  kernelArgs?: string;
}

/**
 * `quiet`: the emulated UART is slow, and printing the whole OOM report (task list,
 * Mem-Info) to it stretches every OOM kill. Errors such as "Out of memory: Killed
 * process" still reach the console, and journald/dmesg keep everything.
 */
export const DEFAULT_KERNEL_ARGS = process.env.LOADGATE_VM_KERNEL_ARGS ?? 'quiet';

export interface Vm {
  readonly host: '127.0.0.1';
  readonly sshPort: number;
  readonly appPort: number;
  readonly username: 'loadgate';
  /** OpenSSH private key (ed25519, no passphrase) authorised for `username`. */
  readonly privateKey: string;
  /** A 0600 copy of `privateKey` on disk, for tools that want a path. */
  readonly privateKeyPath: string;
  /** `SHA256:…` exactly as `ssh-keygen -lf host_key.pub` prints it. */
  readonly hostKeyFingerprint: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…`, ready for a known_hosts file. */
  readonly knownHostsLine: string;
  /** Base URL of the demo app, `http://127.0.0.1:APPPORT`. */
  readonly appUrl: string;
  /** Milliseconds from starting qemu until sshd / the app first answered. */
  readonly bootTimings: { sshMs: number; appMs: number };
  /** The qemu process (setpriv execs it): to throttle the whole guest from outside, with a cgroup. */
  readonly qemuPid: number;
  /** Run a shell command as `username` over ssh (pinned host key, BatchMode). */
  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Serial console output so far (kept after kill()). */
  consoleLog(): string;
  /** Stop qemu and delete the overlay and temp files. Idempotent. */
  kill(): Promise<void>;
}

/** Build (or find) the cached image; resolves to its cache dir. Build output goes to stderr. */
export async function buildImage(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = spawn('bash', [BUILD_SCRIPT], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const code = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', res);
  });
  if (code !== 0) throw new Error(`build-image.sh exited with ${code}`);
  const dir = stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(join(dir, 'image.raw'))) throw new Error(`build-image.sh printed no usable cache dir: ${stdout}`);
  return dir;
}

/** `SHA256:<unpadded base64>` of an OpenSSH public key line, as ssh-keygen -l prints it. */
export function fingerprintOf(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
  if (blob.length === 0) throw new Error(`not an OpenSSH public key: ${publicKeyLine}`);
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

// ---- process-wide cleanup: qemu must never outlive the test process ------------------

const live = new Set<{ killSync(): void }>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const vm of live) vm.killSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const vm of live) vm.killSync();
      // Re-raise with the default disposition (unless someone else also listens),
      // so the process still dies the way the signal intends.
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

// ---- helpers --------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

const TMP_PREFIX = 'loadgate-vm-';

/**
 * Remove temp dirs (overlay, console log) left by test processes that died without
 * running their exit handler (SIGKILL, OOM). Their qemu died with them (pdeathsig).
 */
function sweepStaleTempDirs(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((n) => n.startsWith(TMP_PREFIX));
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      continue; // no pid file yet: maybe another process is just creating it
    }
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid) continue;
    try {
      process.kill(owner, 0); // still alive: not ours to touch
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(dir, { recursive: true, force: true });
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`${cmd} timed out after ${timeoutMs} ms: ${args.at(-1)}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ stdout, stderr, code: code ?? (signal ? 128 : 255) });
    });
    child.stdin.on('error', () => {}); // remote side may exit before reading stdin
    child.stdin.end(opts.input ?? '');
  });
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

// ---- boot -----------------------------------------------------------------------------

export async function bootVm(opts: BootOptions): Promise<Vm> {
  // A port picked by freePort() can be taken by someone else before qemu binds it;
  // qemu then exits at once ("Could not set up host forwarding rule"): retry.
  const attempts = opts.sshPort && opts.appPort ? 1 : 3;
  for (let i = 1; ; i++) {
    try {
      return await bootOnce(opts);
    } catch (e) {
      if (i >= attempts || !(e instanceof PortInUseError)) throw e;
    }
  }
}

class PortInUseError extends Error {}

async function bootOnce(opts: BootOptions): Promise<Vm> {
  const cacheDir = resolve(opts.cacheDir);
  for (const f of ['image.raw', 'vmlinuz', 'initrd.img', 'client_key', 'host_key.pub']) {
    if (!existsSync(join(cacheDir, f))) throw new Error(`${cacheDir}/${f} missing: run build-image.sh first`);
  }
  const sshPort = opts.sshPort ?? (await freePort());
  const appPort = opts.appPort ?? (await freePort());
  const memoryMiB = opts.memoryMiB ?? 1024;
  const bootTimeoutMs = opts.bootTimeoutMs ?? 120_000;

  sweepStaleTempDirs();
  const dir = mkdtempSync(join(tmpdir(), TMP_PREFIX));
  const overlay = join(dir, 'overlay.qcow2');
  const consolePath = join(dir, 'console.log');
  const knownHosts = join(dir, 'known_hosts');
  const keyPath = join(dir, 'client_key');

  const privateKey = readFileSync(join(cacheDir, 'client_key'), 'utf8');
  copyFileSync(join(cacheDir, 'client_key'), keyPath);
  chmodSync(keyPath, 0o600); // ssh refuses group/world-readable keys
  const hostKeyLine = readFileSync(join(cacheDir, 'host_key.pub'), 'utf8').trim();
  const [keyType, keyB64] = hostKeyLine.split(/\s+/);
  const knownHostsLine = `[127.0.0.1]:${sshPort} ${keyType} ${keyB64}`;
  writeFileSync(knownHosts, `${knownHostsLine}\n`);

  // Copy-on-write overlay: the cached image stays pristine, every boot starts clean,
  // and nothing is copied up front.
  const img = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(cacheDir, 'image.raw'), '-F', 'raw', overlay], {
    encoding: 'utf8',
  });
  if (img.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`qemu-img create failed: ${img.stderr || img.error}`);
  }

  const qemuArgs = [
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-m',
    String(memoryMiB),
    '-smp',
    '1',
    '-nographic',
    '-monitor',
    'none',
    '-serial',
    `file:${consolePath}`,
    // A kernel panic ends qemu (we notice) instead of rebooting forever.
    '-no-reboot',
    '-kernel',
    join(cacheDir, 'vmlinuz'),
    '-initrd',
    join(cacheDir, 'initrd.img'),
    '-append',
    `root=/dev/vda rw console=ttyS0 panic=-1 ${opts.kernelArgs ?? DEFAULT_KERNEL_ARGS}`.trim(),
    '-drive',
    `file=${overlay},format=qcow2,if=virtio`,
    '-netdev',
    `user,id=n0,hostfwd=tcp:127.0.0.1:${sshPort}-:22,hostfwd=tcp:127.0.0.1:${appPort}-:8000`,
    '-device',
    'virtio-net-pci,netdev=n0',
    '-device',
    'virtio-rng-pci',
  ];
  // setpriv --pdeathsig: the kernel SIGKILLs qemu if this process dies without
  // running any handler (e.g. SIGKILL); the exit/signal handlers cover the rest.
  const hasSetpriv = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
  const [bin, args] = hasSetpriv
    ? ['setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...qemuArgs]]
    : ['qemu-system-x86_64', qemuArgs];

  const started = Date.now();
  const qemu: ChildProcess = spawn(bin, args as string[], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (qemu.pid) writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`);
  let qemuStderr = '';
  qemu.stderr?.setEncoding('utf8').on('data', (d: string) => (qemuStderr += d));
  let qemuExit: string | null = null;
  const exited = new Promise<void>((res) => {
    qemu.on('exit', (code, signal) => {
      qemuExit = `qemu exited (code ${code}, signal ${signal})`;
      res();
    });
    qemu.on('error', (e) => {
      qemuExit = `qemu failed to start: ${e.message}`;
      res();
    });
  });

  let killed = false;
  let finalConsole: string | null = null;
  const readConsole = (): string => {
    if (finalConsole !== null) return finalConsole;
    try {
      return readFileSync(consolePath, 'utf8');
    } catch {
      return '';
    }
  };
  const handle = {
    killSync(): void {
      if (killed) return;
      killed = true;
      finalConsole = readConsole();
      if (qemuExit === null) qemu.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      live.delete(handle);
    },
  };
  installExitHandlers();
  live.add(handle);

  const kill = async (): Promise<void> => {
    if (killed) return;
    if (qemuExit === null) {
      qemu.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    }
    // Close the ssh connection master, if any (it would notice the dead link anyway).
    spawnSync('ssh', ['-F', '/dev/null', '-o', `ControlPath=${join(dir, 'cm')}`, '-O', 'exit', 'x'], { stdio: 'ignore' });
    handle.killSync();
  };

  const sshArgs = (cmd: string): string[] => [
    '-F',
    '/dev/null', // ignore ~/.ssh/config and /etc/ssh/ssh_config.d
    '-i',
    keyPath,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=10',
    '-o',
    'ServerAliveCountMax=6',
    '-o',
    'LogLevel=ERROR',
    // One TCP+SSH handshake per test instead of per command: each costs ~1 s under TCG.
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${join(dir, 'cm')}`,
    '-o',
    'ControlPersist=300',
    '-p',
    String(sshPort),
    'loadgate@127.0.0.1',
    '--',
    cmd,
  ];
  const exec = (cmd: string, execOpts?: ExecOptions): Promise<ExecResult> => {
    if (killed) return Promise.reject(new Error('VM was killed'));
    return run('ssh', sshArgs(cmd), execOpts);
  };

  const fail = async (why: string): Promise<never> => {
    const msg =
      `${why}\n--- qemu stderr ---\n${tail(qemuStderr, 20)}\n` + `--- serial console (last 40 lines) ---\n${tail(readConsole(), 40)}`;
    await kill();
    if (/Could not set up host forwarding rule/.test(qemuStderr) && !(opts.sshPort && opts.appPort)) {
      throw new PortInUseError(msg);
    }
    throw new Error(msg);
  };

  // ---- wait for sshd (with the pinned key) and the app -------------------------------
  let sshMs = -1;
  let appMs = -1;
  const deadline = started + bootTimeoutMs;
  while (sshMs < 0 || appMs < 0) {
    if (qemuExit !== null) return fail(`VM did not boot: ${qemuExit}`);
    if (Date.now() > deadline)
      return fail(`VM not ready after ${bootTimeoutMs} ms (ssh ${sshMs >= 0 ? 'up' : 'down'}, app ${appMs >= 0 ? 'up' : 'down'})`);
    if (sshMs < 0) {
      // No ControlMaster while probing: a half-open master would block later calls.
      const probe = sshArgs('true').map((a) => (a === 'ControlMaster=auto' ? 'ControlMaster=no' : a));
      // Raced with qemu's exit: a port taken by another listener makes qemu quit at
      // once, while ssh to that listener would hang until its ConnectTimeout.
      const r = await Promise.race([run('ssh', probe, { timeoutMs: 15_000 }).catch(() => null), exited.then(() => null)]);
      if (r?.code === 0) sshMs = Date.now() - started;
      else if (r && /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(r.stderr)) {
        return fail(`sshd on 127.0.0.1:${sshPort} presented a host key other than the pinned one:\n${r.stderr}`);
      }
    }
    if (appMs < 0) {
      const ok = await fetch(`http://127.0.0.1:${appPort}/fast`, { signal: AbortSignal.timeout(5000) })
        .then(async (res) => {
          await res.text();
          return res.ok;
        })
        .catch(() => false);
      if (ok) appMs = Date.now() - started;
    }
    if (sshMs < 0 || appMs < 0) await sleep(1000);
  }

  return {
    host: '127.0.0.1',
    sshPort,
    appPort,
    username: 'loadgate',
    privateKey,
    privateKeyPath: keyPath,
    hostKeyFingerprint: fingerprintOf(hostKeyLine),
    knownHostsLine,
    appUrl: `http://127.0.0.1:${appPort}`,
    bootTimings: { sshMs, appMs },
    qemuPid: qemu.pid!,
    exec,
    consoleLog: readConsole,
    kill,
  };
}
