// What the host watch must do against a real host, whatever carries the commands there (a local
// shell or the loopback sshd). The target is always this machine: its /proc, its kernel.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLog } from '../../src/log.ts';
import { removeCgroup } from '../support/cgroup.ts';
import type { RemoteHost } from '../../src/remote/remote-host.ts';
import { healthFindings } from '../../src/watch/health.ts';
import { HostWatch } from '../../src/watch/host-watch.ts';
import { NOT_JUDGED_STEAL } from './health-fixtures.ts';
import { parseMeminfo } from '../../src/watch/proc-parsers.ts';
import { SAMPLER_MARKER } from '../../src/watch/sample-line.ts';

// `sample[r]` matches the sampler but not the shell that runs pgrep with this pattern.
const SAMPLER_PATTERN = `'${SAMPLER_MARKER.slice(0, -1)}[${SAMPLER_MARKER.slice(-1)}]'`;

async function samplerPids(host: RemoteHost): Promise<number[]> {
  const result = await host.exec(`pgrep -f ${SAMPLER_PATTERN} || true`);
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

/** The sampler processes seen during the burst must all be gone shortly after it ends. */
async function assertSamplerGone(host: RemoteHost, during: number[]): Promise<void> {
  const deadline = Date.now() + 5000;
  let left = during;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(200);
    const running = new Set(await samplerPids(host));
    left = during.filter((pid) => running.has(pid));
  }
  assert.deepEqual(left, [], 'sampler processes still running on the host after the burst');
}

export async function samplesRealProc(host: RemoteHost): Promise<void> {
  const watch = await HostWatch.start(host, { log: silentLog, maxStealPercent: NOT_JUDGED_STEAL });
  const memTotalKib = parseMeminfo(readFileSync('/proc/meminfo', 'utf8')).memTotalKib!;
  assert.ok(memTotalKib > 0);
  assert.equal(watch.machine.memTotalKib, memTotalKib);
  assert.equal(watch.machine.cpuCount, cpus().length);
  assert.ok(watch.machine.kernel.length > 0);

  const burst = await watch.beginBurst();
  const during = await samplerPids(host);
  assert.ok(during.length > 0, 'pgrep found no sampler during the burst');
  await sleep(3000);
  const health = await burst.end({ index: 0, target: 'candidate', generatorCpu: 0.2 });
  await assertSamplerGone(host, during);

  const { figures } = health;
  // A first sample, about three during the burst, one after it.
  assert.ok(figures.samples >= 4 && figures.samples <= 7, `samples: ${figures.samples}`);
  const perSample = figures.spanSec / (figures.samples - 1);
  // One a second, but the last one may follow its tick by as little as MIN_SPACING_SEC (0.5 s):
  // four samples can span 2.5 s.
  assert.ok(perSample >= 0.8 && perSample <= 2, `seconds per sample: ${perSample}`);
  assert.equal(figures.memTotalKib, memTotalKib);
  for (const kib of [figures.memAvailableBeforeKib, figures.memAvailableMinKib, figures.memAvailableAfterKib]) {
    assert.ok(kib !== null && kib > 0 && kib <= memTotalKib, `MemAvailable ${kib}`);
  }
  assert.ok(figures.memAvailableMinKib! <= figures.memAvailableBeforeKib!);
  assert.equal(figures.swapTotalKib, parseMeminfo(readFileSync('/proc/meminfo', 'utf8')).swapTotalKib);
  assert.ok(figures.psiSomePeak !== null, 'this kernel has PSI');
  assert.ok(figures.stealPercent !== null && figures.stealPercent >= 0);
  assert.ok(figures.load1Peak !== null);
  // An ordinary user without sudo may not read the kernel log; the sampler itself must have no gap.
  assert.deepEqual(
    health.gaps.filter((gap) => !gap.startsWith('kernel log not readable: ')),
    [],
  );
  assert.ok(!health.flags.includes('worker-crash'));
}

const CGROUP_ROOT = '/sys/fs/cgroup/memory';
const CGROUP_LIMIT = 160 * 1024 * 1024;
const TARGET_NAME = 'lg-oom-target';

interface OomTarget {
  pid: number;
  port: number;
  exited: Promise<unknown>;
  signal(): NodeJS.Signals | null;
}

/**
 * A real OOM kill that spares the machine: the target runs in its own memory cgroup with a small
 * limit and leaks 16 MB per request until the kernel kills it. Removed afterwards, also on failure.
 */
async function withOomTarget(use: (target: OomTarget) => Promise<void>): Promise<void> {
  const cgroup = join(CGROUP_ROOT, `loadgate-watch-test-${process.pid}-${Date.now()}`);
  const dir = mkdtempSync(join(tmpdir(), 'loadgate-oom-'));
  let child: ChildProcess | undefined;
  try {
    mkdirSync(cgroup);
    writeFileSync(join(cgroup, 'memory.limit_in_bytes'), String(CGROUP_LIMIT));
    // No swap here, but where swap accounting exists the limit must cover it too.
    if (existsSync(join(cgroup, 'memory.memsw.limit_in_bytes'))) {
      writeFileSync(join(cgroup, 'memory.memsw.limit_in_bytes'), String(CGROUP_LIMIT));
    }
    // The kernel names a process after the file it ran: a link named like the target.
    const executable = join(dir, TARGET_NAME);
    symlinkSync(process.execPath, executable);
    const server = new URL('./fixtures/allocating-server.mjs', import.meta.url).pathname;
    const started = spawn('bash', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec ${executable} ${server}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = started;
    const exited = new Promise((resolve) => started.once('exit', resolve));
    const port = Number(await firstLine(started));
    await use({ pid: started.pid!, port, exited, signal: () => started.signalCode });
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await removeCgroup(cgroup);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads the target until the kernel kills it. */
async function loadUntilKilled(target: OomTarget): Promise<void> {
  let answered = 0;
  for (let request = 0; request < 40; request += 1) {
    const response = await fetch(`http://127.0.0.1:${target.port}/`).catch(() => null);
    if (!response) break;
    await response.text();
    answered += 1;
  }
  await Promise.race([target.exited, sleep(10_000)]);
  assert.equal(target.signal(), 'SIGKILL', `the target was not OOM-killed after ${answered} requests`);
}

export async function reportsRealOomKill(host: RemoteHost): Promise<void> {
  await withOomTarget(async (target) => {
    const watch = await HostWatch.start(host, { log: silentLog, maxStealPercent: NOT_JUDGED_STEAL });
    const burst = await watch.beginBurst();
    await loadUntilKilled(target);
    const health = await burst.end({ index: 0, target: 'candidate', generatorCpu: 0.1 });

    assert.ok(health.flags.includes('oom-kill'), `flags: ${health.flags.join(', ')}`);
    const kill = health.oomKills.find((candidate) => candidate.pid === target.pid);
    assert.ok(kill, `no kernel line for pid ${target.pid}: ${JSON.stringify(health.oomKills)}`);
    assert.equal(kill.name, TARGET_NAME);
    assert.equal(kill.scope, 'memory-cgroup');
    assert.ok(kill.anonRssMb !== null && kill.anonRssMb > 16 && kill.anonRssMb <= 160, `anon-rss ${kill.anonRssMb} MB`);
    assert.ok(kill.atEpochSec !== null && Math.abs(kill.atEpochSec - Date.now() / 1000) < 60, `killed at ${kill.atEpochSec}`);
    // On this kernel /proc/vmstat oom_kill counts memory cgroup kills too.
    assert.ok((health.figures.oomKills ?? 0) >= 1, `oom_kill delta ${health.figures.oomKills}`);
    const { crashes } = healthFindings([health], []);
    const expected = new RegExp(
      `^the kernel killed ${TARGET_NAME} \\(pid ${target.pid}, \\d+ MB\\) at its memory cgroup limit at \\d\\d:\\d\\d:\\d\\d UTC during burst 1$`,
    );
    assert.ok(
      crashes.some((crash) => expected.test(crash)),
      crashes.join('\n'),
    );

    // The next burst does not blame the same kill again.
    const next = await watch.beginBurst();
    const nextHealth = await next.end({ index: 1, target: 'candidate', generatorCpu: 0.1 });
    assert.ok(!nextHealth.oomKills.some((candidate) => candidate.pid === target.pid));
  });
}

/**
 * `journalctl` as journald behaves on a host thrashing before an OOM kill: the kernel has counted
 * the kill, but journald takes the kernel's line seconds later. A PATH shim serves this machine's
 * real dmesg in `-o short-unix` form, honouring `--since`, only once the release file exists.
 */
function laggingJournal(dir: string, releaseFile: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const script = `#!/usr/bin/env bash
since=0
while [ $# -gt 0 ]; do [ "$1" = --since ] && since=\${2#@}; shift; done
btime=$(awk '/^btime/ { print $2 }' /proc/stat)
echo "$btime.000000 localhost kernel: Linux version (lagging journal)"
[ -e ${releaseFile} ] || exit 0
dmesg | awk -v b="$btime" -v since="$since" 'match($0, /^\\[ *[0-9.]+\\]/) {
  t = b + substr($0, 2, RLENGTH - 2); if (t >= since) printf "%.6f localhost kernel: %s\\n", t, substr($0, RLENGTH + 2) }'
`;
  writeFileSync(join(bin, 'journalctl'), script, { mode: 0o755 });
  return bin;
}

/** A kill the journal shows 3 s after the burst ends is still named, and the burst waited for it. */
export async function namesKillTheJournalLogsLate(host: RemoteHost): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'loadgate-journal-'));
  const releaseFile = join(dir, 'released');
  const path = process.env.PATH;
  process.env.PATH = `${laggingJournal(dir, releaseFile)}:${path}`;
  try {
    await withOomTarget(async (target) => {
      const watch = await HostWatch.start(host, { log: silentLog, maxStealPercent: NOT_JUDGED_STEAL });
      const burst = await watch.beginBurst();
      await loadUntilKilled(target);
      const release = sleep(3000).then(() => writeFileSync(releaseFile, ''));
      const endStarted = Date.now();
      const health = await burst.end({ index: 0, target: 'candidate', generatorCpu: 0.1 });
      await release;
      const waitedMs = Date.now() - endStarted;

      assert.ok(
        health.oomKills.some((kill) => kill.pid === target.pid && kill.name === TARGET_NAME),
        `the late kernel line for pid ${target.pid} is named: ${JSON.stringify(health.oomKills)} (gaps: ${health.gaps.join('; ')})`,
      );
      assert.ok(waitedMs >= 2500 && waitedMs < 9000, `the burst waited ${waitedMs} ms for the journal`);
      assert.deepEqual(health.gaps, []);
    });
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Without a readable kernel log the kill is still counted (vmstat oom_kill) and still a crash. */
export async function countsOomKillWithoutKernelLog(host: RemoteHost): Promise<void> {
  await withOomTarget(async (target) => {
    const watch = await HostWatch.start(host, { log: silentLog, maxStealPercent: NOT_JUDGED_STEAL });
    const burst = await watch.beginBurst();
    await loadUntilKilled(target);
    const health = await burst.end({ index: 0, target: 'candidate', generatorCpu: 0.1 });

    assert.ok(health.flags.includes('oom-kill'), `flags: ${health.flags.join(', ')}`);
    assert.deepEqual(health.oomKills, []);
    assert.ok((health.figures.oomKills ?? 0) >= 1, `oom_kill delta ${health.figures.oomKills}`);
    assert.ok(
      health.gaps.some((gap) => gap.startsWith('kernel log not readable: ')),
      health.gaps.join('\n'),
    );
    assert.match(
      healthFindings([health], []).crashes.join('\n'),
      /^the kernel OOM-killed (a process|\d+ processes) during burst 1 \(the kernel log did not name (it|them)\)$/m,
    );
  });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`target exited (${code}) before printing its port`)));
  });
}

export const GUNICORN_SIGKILL = '[2024-05-01 14:02:11 +0000] [700] [ERROR] Worker (pid:812) was sent SIGKILL! Perhaps out of memory?';

/** A logs-command whose output gains a gunicorn SIGKILL line during the burst. */
export async function reportsWorkerCrash(host: RemoteHost): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'loadgate-logs-'));
  try {
    const logFile = join(dir, 'app.log');
    // An old crash, already in the log before the run: not this run's doing.
    writeFileSync(logFile, `[2024-05-01 13:00:00 +0000] [690] [ERROR] Worker (pid:500) was sent SIGKILL! Perhaps out of memory?\n`);
    const watch = await HostWatch.start(host, { log: silentLog, maxStealPercent: NOT_JUDGED_STEAL, logsCommand: `cat ${logFile}` });

    const burst = await watch.beginBurst();
    appendFileSync(logFile, `[2024-05-01 14:02:10 +0000] [700] [INFO] Booting worker with pid: 812\n${GUNICORN_SIGKILL}\n`);
    const health = await burst.end({ index: 0, target: 'candidate', generatorCpu: 0.1 });
    assert.ok(health.flags.includes('worker-crash'), `flags: ${health.flags.join(', ')}`);
    assert.deepEqual(health.crashLines, {
      quoted: [{ kind: 'worker killed (SIGKILL, perhaps out of memory)', line: GUNICORN_SIGKILL }],
      total: 1,
    });
    assert.deepEqual(healthFindings([health], []).crashes, [
      `worker killed (SIGKILL, perhaps out of memory) during burst 1: ${GUNICORN_SIGKILL}`,
    ]);

    const quiet = await (await watch.beginBurst()).end({ index: 1, target: 'candidate', generatorCpu: 0.1 });
    assert.ok(!quiet.flags.includes('worker-crash'), `flags: ${quiet.flags.join(', ')}`);
    assert.equal(quiet.crashLines.total, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
