// Swap for real, as root, through a real sshd: files in a temp dir, fstab in a temp copy, and
// every swap file switched off and deleted afterwards, also when a test fails. The temp dir is
// under /var/lib, not /tmp: loadgate refuses a swap file in a directory others may write.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { SwapSettings } from '../../src/config/settings.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { ensureSwap, inspectSwap, SwapError } from '../../src/remote/swap.ts';
import { parseSwapState, requiredSwapBytes } from '../../src/remote/swap-state.ts';
import { TargetError } from '../../src/remote/target-error.ts';
import { assertNoSecrets, captureLog, type CapturedLog } from '../support/capture-log.ts';
import { sshSettingsOf, startSshd, type Sshd } from '../support/sshd.ts';

const MIB = 1024 * 1024;

test('parsing /proc/meminfo and /proc/swaps, and what 2x means', () => {
  const state = parseSwapState(
    'MemTotal:         995328 kB\nMemFree:          100000 kB\n',
    'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swap\\040file                               file\t\t65532\t\t1024\t\t-2\n/dev/vdb2 partition 1048572 0 -3\n',
  );
  assert.deepEqual(state, {
    memTotalBytes: 995328 * 1024,
    devices: [
      { path: '/swap file', type: 'file', sizeBytes: 65532 * 1024, usedBytes: 1024 * 1024 },
      { path: '/dev/vdb2', type: 'partition', sizeBytes: 1048572 * 1024, usedBytes: 0 },
    ],
    totalBytes: (65532 + 1048572) * 1024,
    usedBytes: 1024 * 1024,
  });
  assert.equal(requiredSwapBytes({ multipleOfMemory: 2 }, 995328 * 1024), 1944 * MIB);
  assert.equal(requiredSwapBytes({ bytes: 512 * MIB }, 1), 512 * MIB);
});

const canRun = process.getuid?.() === 0;
/** Another account on this machine: its files stand for a local user's on the target. */
const NOBODY = 65534;

describe('ensureSwap on a real host', { timeout: 180_000 }, () => {
  // Fails, never skips (test/run.sh): a swap test that did not run proves nothing.
  before(() => assert.ok(canRun, 'needs root (swapon, mkswap, mount): run `npm test` as root'));
  let sshd: Sshd;
  let host: RemoteHost;
  let dir: string;
  let fstab: string;
  let log: CapturedLog;
  const errors: string[] = [];
  let originalFstab: string;

  const swapfile = () => join(dir, 'swapfile');
  const settings = (overrides: Partial<SwapSettings> = {}): SwapSettings => ({
    mode: 'configure',
    size: { bytes: 64 * MIB },
    path: swapfile(),
    persist: true,
    ...overrides,
  });
  const ensure = (overrides: Partial<SwapSettings> = {}) => ensureSwap(host, settings(overrides), log, { fstabPath: fstab });
  async function refusal(promise: Promise<unknown>): Promise<TargetError> {
    const error = await promise.then(
      () => assert.fail('expected a refusal'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof TargetError, String(error));
    errors.push(error.message);
    return error;
  }
  const activeSwap = (path: string) =>
    readFileSync('/proc/swaps', 'utf8')
      .split('\n')
      .find((line) => line.startsWith(`${path} `));
  const makeSwapFile = (path: string, mib: number) => {
    execFileSync('dd', ['if=/dev/zero', `of=${path}`, 'bs=1M', `count=${mib}`], { stdio: 'ignore' });
    execFileSync('chmod', ['600', path]);
    execFileSync('mkswap', [path], { stdio: 'ignore' });
  };
  /** A swap file that `nobody` owns and ran mkswap on itself, readable by that account. */
  const makeNobodysSwapFile = (path: string) => {
    execFileSync('dd', ['if=/dev/zero', `of=${path}`, 'bs=1M', 'count=64'], { stdio: 'ignore' });
    chownSync(path, NOBODY, NOBODY);
    chmodSync(path, 0o644);
    execFileSync('runuser', ['-u', 'nobody', '--', 'mkswap', path], { stdio: 'ignore' });
  };
  /** The real host, with `edit` applied to each command before it is sent: another process acting on the target meanwhile. */
  const hostWith = (edit: (command: string) => string): RemoteHost => ({
    isRoot: host.isRoot,
    hostKeyFingerprint: host.hostKeyFingerprint,
    exec: (command, options) => host.exec(edit(command), options),
    spawn: (command, options) => host.spawn(command, options),
    onDisconnect: (listener) => host.onDisconnect(listener),
    close: () => host.close(),
  });
  const activeUnder = (directory: string) =>
    readFileSync('/proc/swaps', 'utf8')
      .split('\n')
      .map((line) => line.split(/\s+/)[0]!)
      .filter((path) => path.startsWith(`${directory}/`));

  before(async () => {
    sshd = await startSshd();
    host = await connectTarget(sshSettingsOf(sshd), captureLog());
  });
  beforeEach(() => {
    log = captureLog();
    dir = mkdtempSync('/var/lib/loadgate-swap-');
    chmodSync(dir, 0o755); // as / is: root's, and others may reach their own files in it
    fstab = join(dir, 'fstab');
    copyFileSync('/etc/fstab', fstab);
    originalFstab = readFileSync(fstab, 'utf8');
  });
  afterEach(() => {
    for (const path of activeUnder(dir)) execFileSync('swapoff', [path]);
    rmSync(dir, { recursive: true, force: true });
    assertNoSecrets([...log.messages, ...errors], [sshd.privateKey]);
  });
  after(async () => {
    await host?.close();
    await sshd?.stop();
  });

  test('configure three times: one change, then no-ops; fstab gets one line, appended', async () => {
    const first = await ensure();
    assert.equal(first.action, 'created');
    assert.equal(first.createdWith, 'fallocate');
    assert.equal(first.fstabLineAdded, true);
    assert.equal(first.requiredBytes, 64 * MIB);
    assert.equal(
      first.before.devices.some((device) => device.path === swapfile()),
      false,
    );
    const device = first.after.devices.find((candidate) => candidate.path === swapfile());
    assert.ok(device, 'the new file is in the reported swap');
    assert.equal(device.type, 'file');
    assert.ok(device.sizeBytes >= 63 * MIB && device.sizeBytes < 64 * MIB, `size ${device.sizeBytes}`);
    assert.equal(first.after.totalBytes - first.before.totalBytes, device.sizeBytes);
    assert.ok(activeSwap(swapfile()), '/proc/swaps lists it');
    const stat = statSync(swapfile());
    assert.equal(stat.mode & 0o777, 0o600);
    assert.equal(stat.size, 64 * MIB);
    assert.match(first.message, /created .*swapfile \(64 MiB, fallocate\) and activated it, added it to/);
    const fstabAfterFirst = readFileSync(fstab, 'utf8');
    assert.ok(fstabAfterFirst.startsWith(originalFstab), 'fstab is appended to, not rewritten');
    assert.equal(fstabAfterFirst.slice(originalFstab.length).replace(/^\n/, ''), `${swapfile()} none swap sw 0 0\n`);

    for (let run = 2; run <= 3; run += 1) {
      const again = await ensure();
      assert.equal(again.action, 'already-active', `run ${run}`);
      assert.equal(again.fstabLineAdded, false);
      assert.match(again.message, /already active with at least 64 MiB; nothing changed/);
      assert.deepEqual(again.after, again.before);
      assert.equal(statSync(swapfile()).mtimeMs, stat.mtimeMs, 'the file was not touched');
    }
    assert.equal(readFileSync(fstab, 'utf8'), fstabAfterFirst);
  });

  test('verify passes with enough active swap, fails with a message suggesting configure', async () => {
    await ensure({ persist: false });
    const verified = await ensure({ mode: 'verify', size: { bytes: 64 * MIB } });
    assert.equal(verified.action, 'verified');
    assert.equal(verified.after, verified.before);

    const error = await refusal(ensure({ mode: 'verify', size: { bytes: 1024 ** 4 } }));
    assert.ok(error instanceof SwapError);
    assert.equal(error.code, 'swap-insufficient');
    assert.match(error.message, /^swap: the target has .* less than the 1024\.0 GiB `swap-size` asks for/);
    assert.match(error.message, /Set `swap: configure`/);
    assert.ok(
      error.state.devices.some((device) => device.path === swapfile()),
      'the error carries the state found',
    );
    assert.equal(readFileSync(fstab, 'utf8'), originalFstab, 'persist: false leaves fstab alone');
  });

  test('off only reports', async () => {
    const report = await ensure({ mode: 'off' });
    assert.equal(report.action, 'reported');
    assert.ok(report.before.memTotalBytes > 0);
    assert.match(report.message, /of swap active, .* used, MemTotal .* \(swap: off, not checked\)/);
    assert.equal(activeSwap(swapfile()), undefined);
  });

  test('a smaller swap in use is reported and left alone, with what to do', async () => {
    await ensure({ persist: false });
    const error = await refusal(ensure({ size: { bytes: 128 * MIB } }));
    assert.equal(error.code, 'swap-refused');
    assert.match(error.message, /is active swap of 64 MiB .* smaller than the 128 MiB asked for/);
    assert.match(error.message, /Run `sudo swapoff .*swapfile` on the target/);
    assert.equal(statSync(swapfile()).size, 64 * MIB);
    assert.ok(activeSwap(swapfile()));
  });

  test('a smaller swap file not in use is recreated at the size asked; a big enough one is just activated', async () => {
    makeSwapFile(swapfile(), 32);
    const grown = await ensure({ size: { bytes: 96 * MIB }, persist: false });
    assert.equal(grown.action, 'created');
    assert.equal(statSync(swapfile()).size, 96 * MIB);
    assert.ok(activeSwap(swapfile()));

    execFileSync('swapoff', [swapfile()]);
    const activated = await ensure({ size: { bytes: 64 * MIB }, persist: false });
    assert.equal(activated.action, 'activated');
    assert.equal(statSync(swapfile()).size, 96 * MIB, 'a bigger existing file is kept as is');
    assert.ok(activeSwap(swapfile()));
  });

  test('a file that is not swap is never overwritten', async () => {
    writeFileSync(swapfile(), 'precious user data\n'.repeat(1000));
    const error = await refusal(ensure());
    assert.equal(error.code, 'swap-refused');
    assert.match(error.message, /exists and is not a swap file; loadgate never overwrites it/);
    assert.equal(readFileSync(swapfile(), 'utf8'), 'precious user data\n'.repeat(1000));
    assert.equal(readFileSync(fstab, 'utf8'), originalFstab);
  });

  test("another account's swap file is refused, naming its owner: not activated, not in fstab", async () => {
    makeNobodysSwapFile(swapfile());
    const error = await refusal(ensure());
    assert.equal(error.code, 'swap-refused');
    assert.match(
      error.message,
      /swapfile belongs to nobody \(uid 65534\), not root: swap there would put root's memory in a file that account can read/,
    );
    assert.deepEqual(activeUnder(dir), []);
    assert.equal(statSync(swapfile()).mode & 0o777, 0o644, 'not even chmod-ed');
    assert.equal(readFileSync(fstab, 'utf8'), originalFstab);
  });

  test('a swap-path in a directory others may write (sticky too) or own is refused before anything is written', async () => {
    chmodSync(dir, 0o1777);
    const created = await refusal(ensure());
    assert.match(
      created.message,
      /the directory .*loadgate-swap-\w+ is writable by everyone \(mode 1777\): another account could put its own file/,
    );
    assert.throws(() => statSync(swapfile()), /ENOENT/);
    makeSwapFile(swapfile(), 64);
    const activated = await refusal(ensure());
    assert.match(activated.message, /is writable by everyone \(mode 1777\)/);

    chmodSync(dir, 0o700);
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, NOBODY, NOBODY);
    const owned = await refusal(ensure({ path: join(theirs, 'swapfile') }));
    assert.match(owned.message, /the directory .*theirs belongs to nobody \(uid 65534\), not root/);
    assert.match(owned.message, /Choose a `swap-path` in directories only root can write, like \/swapfile/);
    assert.deepEqual(activeUnder(dir), []);
    assert.equal(readFileSync(fstab, 'utf8'), originalFstab);
  });

  test('a swap file with a second name, or behind a symlinked directory, is refused', async () => {
    makeSwapFile(swapfile(), 64);
    linkSync(swapfile(), join(dir, 'second-name'));
    const linked = await refusal(ensure());
    assert.match(linked.message, /swapfile has 2 names \(hard links\)/);

    rmSync(join(dir, 'second-name'));
    symlinkSync(dir, join(dir, 'via'));
    const viaSymlink = await refusal(ensure({ path: join(dir, 'via', 'swapfile') }));
    assert.match(viaSymlink.message, /via is a symbolic link: give `swap-path` without symlinks/);
    assert.deepEqual(activeUnder(dir), []);
  });

  test('a file replaced between the check and swapon is not activated', async () => {
    makeSwapFile(swapfile(), 64);
    const theirs = join(dir, 'theirs');
    makeNobodysSwapFile(theirs);
    const racing = hostWith((command) => {
      if (command.includes('swapon ')) renameSync(theirs, swapfile());
      return command;
    });
    const error = await refusal(ensureSwap(racing, settings(), log, { fstabPath: fstab }));
    assert.equal(error.code, 'swap-refused');
    assert.match(error.message, /swapfile changed after loadgate checked it .*; nothing was activated/);
    assert.deepEqual(activeUnder(dir), []);
    assert.equal(statSync(swapfile()).uid, NOBODY);
    assert.equal(readFileSync(fstab, 'utf8'), originalFstab);
  });

  test('a file replaced while swapon opens it is switched off again', async () => {
    makeSwapFile(swapfile(), 64);
    const theirs = join(dir, 'theirs');
    makeNobodysSwapFile(theirs);
    // A `swapon` first on PATH that puts the other file in place just before the real one runs.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const realSwapon = execFileSync('sh', ['-c', 'command -v swapon'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'swapon'), `#!/bin/sh\nmv -f ${theirs} ${swapfile()} && exec ${realSwapon} "$@"\n`, { mode: 0o755 });
    const racing = hostWith((command) => (command.includes('swapon ') ? `PATH=${bin}:$PATH\n${command}` : command));
    const error = await refusal(ensureSwap(racing, settings(), log, { fstabPath: fstab }));
    assert.equal(error.code, 'swap-refused');
    assert.match(error.message, /swapfile was replaced while swapon opened it, so loadgate ran swapoff on it/);
    assert.equal(statSync(swapfile()).uid, NOBODY, 'the fake swapon ran');
    assert.deepEqual(activeUnder(dir), []);
    assert.equal(readFileSync(fstab, 'utf8'), originalFstab);
  });

  test('not enough free disk (size plus margin) is refused before writing anything', async () => {
    const error = await refusal(ensure({ size: { bytes: 1024 ** 5 } }));
    assert.equal(error.code, 'swap-refused');
    assert.match(error.message, /not enough free disk for a 1048576\.0 GiB swap file at .*: .* available, and loadgate keeps 512 MiB free/);
    assert.throws(() => statSync(swapfile()), /ENOENT/);
  });

  test('hostile swap-path values are refused before any command runs', async () => {
    let commands = 0;
    const counting = hostWith((command) => {
      commands += 1;
      return command;
    });
    const hostile = [
      '/tmp/x; rm -rf /',
      `/tmp/$(touch ${dir}/pwned)`,
      '/tmp/`id`',
      "/tmp/it's",
      '/tmp/"quoted"',
      '/tmp/a\nb',
      '/tmp/a b',
      'swapfile',
      '/tmp/../etc/passwd',
      '/',
    ];
    for (const path of hostile) {
      const error = await refusal(ensureSwap(counting, settings({ path }), log, { fstabPath: fstab }));
      assert.equal(error.code, 'invalid-setting', path);
      assert.match(error.message, /^swap-path must be an absolute path of letters, digits/);
      assert.ok(error.message.includes(JSON.stringify(path)), 'the message shows the value, escaped');
    }
    assert.equal(commands, 0);
    assert.throws(() => statSync(join(dir, 'pwned')), /ENOENT/);
  });

  test('where fallocate is not supported (ext2), the file is written with dd', async () => {
    const image = join(dir, 'ext2.img');
    const mountpoint = join(dir, 'ext2');
    // Sparse: 800 MiB leaves room for 64 MiB plus the free-disk margin, while using 64 MiB.
    execFileSync('truncate', ['-s', '800M', image]);
    execFileSync('mkfs.ext2', ['-q', '-F', image]);
    execFileSync('mkdir', [mountpoint]);
    try {
      execFileSync('mount', ['-o', 'loop', image, mountpoint], { stdio: 'ignore' });
    } catch {
      assert.fail('`mount -o loop` failed: this case needs root and loop devices (modprobe loop)');
    }
    const path = join(mountpoint, 'swapfile');
    try {
      const report = await ensure({ path, persist: false });
      assert.equal(report.action, 'created');
      assert.equal(report.createdWith, 'dd');
      assert.match(report.message, /\(64 MiB, dd\)/);
      assert.ok(activeSwap(path));
      assert.equal(statSync(path).size, 64 * MIB);
    } finally {
      try {
        execFileSync('swapoff', [path], { stdio: 'ignore' });
      } catch {
        // never activated
      }
      execFileSync('umount', [mountpoint]);
    }
  });

  test('inspectSwap matches /proc/swaps', async () => {
    await ensure({ persist: false });
    const state = await inspectSwap(host);
    const line = activeSwap(swapfile())!.split(/\s+/);
    const device = state.devices.find((candidate) => candidate.path === swapfile());
    assert.deepEqual(device, { path: swapfile(), type: 'file', sizeBytes: Number(line[2]) * 1024, usedBytes: Number(line[3]) * 1024 });
  });
});
