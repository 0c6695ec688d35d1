/**
 * Smoke test of the e2e VM harness: build (cached), boot, check the guest and the
 * demo app, force an OOM kill of a gunicorn worker, tear down.
 *
 *   npx tsx test/e2e/vm/smoke.ts        (as root; exit code 0 = all good)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootVm, buildImage, type Vm } from './vm.ts';

const t = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const log = (msg: string): void => console.log(`[smoke] ${msg}`);

async function get(vm: Vm, path: string, timeoutMs = 30_000): Promise<{ status: number; ms: number; body: string }> {
  const start = performance.now();
  const res = await fetch(vm.appUrl + path, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  return { status: res.status, ms: performance.now() - start, body };
}

async function sh(vm: Vm, cmd: string): Promise<string> {
  const r = await vm.exec(cmd);
  assert.equal(r.code, 0, `remote command failed (${r.code}): ${cmd}\n${r.stderr}`);
  return r.stdout;
}

const oomKills = async (vm: Vm): Promise<number> => Number((await sh(vm, 'awk \'$1 == "oom_kill" { print $2 }\' /proc/vmstat')).trim());

async function main(): Promise<void> {
  const timings: Record<string, string> = {};

  let start = Date.now();
  const cacheDir = await buildImage();
  timings['image build (or cache hit)'] = t(start);
  log(`image: ${cacheDir}`);

  const vm = await bootVm({ cacheDir });
  let ok = false;
  try {
    timings['boot to ssh'] = `${(vm.bootTimings.sshMs / 1000).toFixed(1)} s`;
    timings['boot to app'] = `${(vm.bootTimings.appMs / 1000).toFixed(1)} s`;
    log(`booted: ssh 127.0.0.1:${vm.sshPort}, app ${vm.appUrl}, host key ${vm.hostKeyFingerprint}`);

    // The pinned fingerprint is what ssh-keygen prints for host_key.pub.
    const keygen = execFileSync('ssh-keygen', ['-lf', join(cacheDir, 'host_key.pub')], { encoding: 'utf8' });
    assert.equal(keygen.split(' ')[1], vm.hostKeyFingerprint);

    start = Date.now();
    const first = await vm.exec('true');
    const second = await vm.exec('true');
    assert.equal(first.code + second.code, 0);
    timings['two ssh execs (multiplexed)'] = t(start);

    log(`free -m:\n${await sh(vm, 'free -m')}`);
    const swaps = await sh(vm, 'cat /proc/swaps');
    log(`/proc/swaps:\n${swaps}`);
    assert.equal(swaps.trim().split('\n').length, 1, 'the image must boot without swap');
    assert.match(await sh(vm, 'sudo -n id -u'), /^0\s*$/, 'passwordless sudo');
    assert.match(await sh(vm, 'cat /proc/pressure/memory'), /^some avg10=/, 'PSI');

    // Room for the tests' swap file (swap-size 2x of ~972 MB): create, enable, remove.
    log(`df -h /:\n${await sh(vm, 'df -h /')}`);
    const swapOn = await sh(
      vm,
      'sudo -n fallocate -l 1944M /loadgate-swap && sudo -n chmod 600 /loadgate-swap && ' +
        'sudo -n mkswap /loadgate-swap >/dev/null && sudo -n swapon /loadgate-swap && cat /proc/swaps',
    );
    assert.match(swapOn, /\/loadgate-swap\s+file\s+1990652/);
    await sh(vm, 'sudo -n swapoff /loadgate-swap && sudo -n rm /loadgate-swap');

    // Kernel log readable both ways (journald keeps kmsg; dmesg_restrict=0).
    assert.match(await sh(vm, 'journalctl -k -b --no-pager | head -n 3'), /kernel/);
    assert.match(await sh(vm, 'dmesg | head -n 1'), /Linux version/);
    assert.match(await sh(vm, 'sudo -n dmesg | head -n 1'), /Linux version/);

    // The app, from the host side.
    const fast = await get(vm, '/fast');
    assert.equal(fast.status, 200);
    const slow0 = await get(vm, '/slow');
    assert.equal(slow0.status, 200);
    await sh(vm, 'echo 300 > /etc/loadgate-demo/delay-ms'); // no sudo: the dir belongs to loadgate
    const slow300 = await get(vm, '/slow');
    assert.equal(JSON.parse(slow300.body).delay_ms, 300);
    assert.ok(slow300.ms >= 300, `/slow with 300 ms delay took ${slow300.ms} ms`);
    await sh(vm, 'echo 0 > /etc/loadgate-demo/delay-ms');
    log(`/fast ${fast.ms.toFixed(0)} ms, /slow ${slow0.ms.toFixed(0)} ms, /slow+300 ${slow300.ms.toFixed(0)} ms`);

    // OOM: rounds of 8 concurrent /hungry requests (4 workers x 300 MiB > 972 MB, no swap).
    const before = await oomKills(vm);
    start = Date.now();
    let after = before;
    for (let round = 1; round <= 6 && after === before; round++) {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => get(vm, '/hungry', 90_000)));
      const statuses = results.map((r) => (r.status === 'fulfilled' ? String(r.value.status) : 'ERR'));
      after = await oomKills(vm);
      log(`/hungry round ${round}: [${statuses.join(' ')}], oom_kill ${before} -> ${after} (${t(start)})`);
    }
    assert.ok(after > before, 'no OOM kill after 6 rounds of /hungry');
    timings['OOM rounds until oom_kill seen'] = t(start);

    // -o short-unix: epoch seconds; the guest clock comes from the host's RTC.
    const kernelLines = (await sh(vm, "journalctl -k -b -o short-unix --no-pager | grep 'Out of memory: Killed process' || true"))
      .trim()
      .split('\n');
    log(`kernel: ${kernelLines[0]}`);
    const killedAt = Number(kernelLines[0]?.split(' ')[0]) * 1000;
    if (killedAt > 0) timings['first /hungry request -> kernel OOM kill'] = `${((killedAt - start) / 1000).toFixed(1)} s`;
    assert.match(kernelLines[0] ?? '', /Out of memory: Killed process \d+ \(gunicorn\)/);
    const oomPids = new Set(kernelLines.flatMap((l) => /Killed process (\d+)/.exec(l)?.[1] ?? []));
    // gunicorn's master logs the reaped worker; it may take a moment under TCG.
    let errLog = '';
    for (let i = 0; i < 20 && !/was sent SIGKILL! Perhaps out of memory\?/.test(errLog); i++) {
      errLog = await sh(vm, 'sudo -n tail -n 200 /var/log/gunicorn/error.log');
      if (!/SIGKILL/.test(errLog)) await new Promise((r) => setTimeout(r, 1000));
    }
    // gunicorn says the same for its own SIGKILLs (timeouts): match the kernel's victims.
    const sigkill = errLog
      .split('\n')
      .find((l) => oomPids.has(/Worker \(pid:(\d+)\) was sent SIGKILL! Perhaps out of memory\?/.exec(l)?.[1] ?? ''));
    log(`gunicorn: ${sigkill}`);
    assert.ok(sigkill, `no SIGKILL line for an OOM-killed pid (${[...oomPids].join(', ')}) in:\n${errLog}`);
    assert.match(await sh(vm, 'journalctl -u gunicorn -b --no-pager'), /was sent SIGKILL! Perhaps out of memory\?/);

    // The service survived (OOMPolicy=continue) and serves again.
    assert.equal((await get(vm, '/fast', 60_000)).status, 200);
    assert.equal((await sh(vm, 'systemctl is-active gunicorn')).trim(), 'active');
    ok = true;
  } finally {
    if (!ok) console.error(`[smoke] serial console tail:\n${vm.consoleLog().split('\n').slice(-30).join('\n')}`);
    start = Date.now();
    await vm.kill();
    timings.kill = t(start);
  }
  // kill() removed the overlay: the known_hosts/key copies lived in the same temp dir.
  assert.ok(!existsSync(vm.privateKeyPath), 'temp dir removed by kill()');

  console.log('\n[smoke] OK. timings:');
  for (const [k, v] of Object.entries(timings)) console.log(`  ${k.padEnd(48)} ${v}`);
}

main().catch((e: unknown) => {
  console.error('[smoke] FAILED:', e);
  process.exitCode = 1;
});
