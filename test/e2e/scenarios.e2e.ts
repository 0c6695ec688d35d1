// The seed's story end to end (issue 7): a 1 GiB Debian VM without swap runs Django under gunicorn
// (4 sync workers), and the bundle, run the way the GitHub runner runs it (Node 24, INPUT_*, event
// file, GITHUB_OUTPUT, step summary), gates it over SSH while the PR comment and the baseline branch
// go through the GitHub API fake over real HTTP.
//
// Run with `npm run test:e2e` (root, qemu, debootstrap; see run.sh). The scenarios share one VM and
// run in order: each leaves the VM as the next expects it (no swap, /slow at BASE_DELAY_MS).

import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { baselineFilePath } from '../../src/baseline/branch-store.ts';
import { parseDocument } from '../../src/baseline/history.ts';
import type { GateReport } from '../../src/report/gate-report.ts';
import { removeCgroup } from '../support/cgroup.ts';
import { delayedPort } from '../support/delay-line.ts';
import { GitHubFake } from '../support/github-fake.ts';
import { runBundle, type BundleRun } from '../support/run-bundle.ts';
import { bootVm, buildImage, type Vm } from './vm/vm.ts';

const PR = 42;
const NAME = 'shop';
/**
 * /slow's injected delay for the latency scenarios. Under TCG the app's own work adds ~20 ms that
 * wobbles with the host's load; on top of 80 ms the run medians of p50 stayed within ±3 % of each
 * other (measured), well inside the 15 % limit below, while +30 % stays well beyond it.
 */
const BASE_DELAY_MS = 80;
const SLOWDOWN = 0.3;
/** Few connections and short bursts: the guest's one emulated CPU serves ~35 requests/s of /slow. */
const LATENCY_LOAD = { connections: '2', duration: '2s', bursts: '3', warmup: '1s', timeout: '10s' };
/** p95 of 2-second bursts on an emulated CPU is noisy (±25 % measured), p50 is not: p50 gates. */
const LIMITS = { 'max-median-increase': '15%', 'max-p95-increase': '50%' };
/** The guest's gunicorn sync workers (gunicorn.conf.py). */
const WORKERS = 4;
/** One connection per worker keeps all of them allocating /hungry's 300 MiB: 1.2 GiB wanted, 972 MB there. */
const HUNGRY_LOAD = { connections: String(WORKERS), duration: '20s', bursts: '1', warmup: '0', timeout: '60s' };
const LOGS_COMMAND = 'sudo -n tail -n 50 /var/log/gunicorn/error.log';
const SIGKILL_LINE = /Worker \(pid:(\d+)\) was sent SIGKILL! Perhaps out of memory\?/;

describe('loadgate against a 1 GiB VM running gunicorn, run as the GitHub runner runs it', { timeout: 20 * 60_000 }, () => {
  let vm: Vm;
  let fake: GitHubFake;
  let baseInputs: Record<string, string>;
  let env: Record<string, string>;
  /** Median of the baseline runs' p50, set by scenario 3 and used by scenario 5. */
  let baselineP50Ms: number | undefined;
  let firstCommentUrl = '';

  const repository = () => ({ default_branch: 'main', full_name: `${fake.owner}/${fake.repo}` });
  const pushEvent = () => ({ ref: 'refs/heads/main', repository: repository() });
  const prEvent = () => ({
    pull_request: {
      number: PR,
      head: { repo: { full_name: `${fake.owner}/${fake.repo}` } },
      base: { repo: { full_name: `${fake.owner}/${fake.repo}` } },
    },
    repository: repository(),
  });

  /**
   * A command in the guest. While the guest thrashes before an OOM kill its sshd may not answer
   * within ssh's 10 s connect timeout (ssh exits 255): that is waited out, up to `patienceMs`.
   */
  async function sh(cmd: string, patienceMs = 180_000): Promise<string> {
    const deadline = Date.now() + patienceMs;
    let result = await vm.exec(cmd, { timeoutMs: 120_000 });
    while (result.code === 255 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      result = await vm.exec(cmd, { timeoutMs: 120_000 });
    }
    assert.equal(result.code, 0, `remote command failed (${result.code}): ${cmd}\n${result.stderr}`);
    return result.stdout;
  }
  /**
   * Requests for `path` in gunicorn's access log. By path: a readiness probe the boot abandoned
   * (GET /fast, 5 s timeout) is still served, and logged, seconds later (seen in scenario 1).
   */
  const accessLogLines = async (path: string) =>
    Number((await sh(`grep -c '"GET ${path}[ ?]' /var/log/gunicorn/access.log || true`)).trim());
  const oomKillCount = () => vmstat('oom_kill');
  const vmstat = async (name: string) => Number((await sh(`awk '$1 == "${name}" { print $2 }' /proc/vmstat`)).trim());
  const fstabSwapLines = async () => Number((await sh("grep -c '^/swapfile ' /etc/fstab || true")).trim());
  const kernelKilledPids = async () =>
    (await sh("journalctl -k -b -q -o cat --no-pager | grep 'Out of memory: Killed process' || true"))
      .split('\n')
      .flatMap((line) => /Killed process (\d+) \(gunicorn\)/.exec(line)?.[1] ?? [])
      .map(Number);
  const setDelay = (ms: number) => sh(`echo ${ms} > /etc/loadgate-demo/delay-ms`);
  async function removeSwap(): Promise<void> {
    await sh("sudo -n swapoff -a && sudo -n rm -f /swapfile && sudo -n sed -i '\\#^/swapfile #d' /etc/fstab");
  }
  /**
   * /hungry requests still running when a burst ends hold their memory for seconds more: swapoff
   * beside them has no room and gets OOM-killed itself (seen). A restart frees the workers' memory.
   */
  async function restartApp(): Promise<void> {
    await sh('sudo -n systemctl restart gunicorn');
    const deadline = Date.now() + 120_000;
    while (
      !(await fetch(`${vm.appUrl}/fast`, { signal: AbortSignal.timeout(10_000) }).then(
        (res) => res.ok,
        () => false,
      ))
    ) {
      assert.ok(Date.now() < deadline, 'gunicorn did not come back within 120 s of its restart');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  async function gate(
    inputs: Record<string, string>,
    eventName: 'push' | 'pull_request',
    runEnv: Record<string, string> = {},
    timeoutMs = 180_000,
  ): Promise<BundleRun & { report: GateReport }> {
    const run = await runBundle({
      inputs: { ...baseInputs, ...inputs },
      eventName,
      event: eventName === 'push' ? pushEvent() : prEvent(),
      env: { ...env, ...runEnv },
      timeoutMs,
    });
    assert.ok(run.report, `no report written (exit ${run.code}):\n${shown(run)}`);
    assertNoSecrets(run);
    return run as BundleRun & { report: GateReport };
  }
  /** The runner's log as a user reads it (the key's mask line is the runner's, not shown). */
  const shown = (run: BundleRun) => `${run.stdout.replace(/^::add-mask::.*$/gm, '')}${run.stderr}`;
  /** Annotations as the runner shows them: a workflow command's message is %-encoded (%25, %0D, %0A). */
  const annotations = (run: BundleRun, level: 'error' | 'warning' | 'notice') =>
    [...run.stdout.matchAll(new RegExp(`^::${level}::(.*)$`, 'gm'))].map((m) =>
      m[1]!.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'),
    );
  function assertNoSecrets(run: BundleRun): void {
    const keyLines = vm.privateKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
    const visible = `${shown(run)}${run.summary}${JSON.stringify(run.report ?? {})}${fake
      .comments(PR)
      .map((c) => c.body)
      .join('')}`;
    for (const line of keyLines) assert.ok(!visible.includes(line), 'a line of the private key was shown');
    assert.ok(!visible.includes(fake.token), 'the GitHub token was shown');
  }
  /** The "this run" row of the Host under load table, by column name. */
  function hostRow(markdown: string): Record<string, string> {
    const lines = markdown.split('\n');
    const header = lines.find((line) => line.includes('| MemAvailable before'));
    const row = lines.find((line) => /^\|\s*this run\s*\|/.test(line));
    assert.ok(header && row, `no Host under load table in:\n${markdown}`);
    const cells = (line: string) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
    return Object.fromEntries(cells(header).map((name, i) => [name, cells(row)[i] ?? '']));
  }

  before(async () => {
    const cacheDir = await buildImage();
    // Boot takes 28–56 s under TCG on a busy 2-core machine.
    vm = await bootVm({ cacheDir, bootTimeoutMs: 240_000 });
    fake = await GitHubFake.start();
    baseInputs = {
      host: vm.host,
      port: String(vm.sshPort),
      username: vm.username,
      key: vm.privateKey,
      fingerprint: vm.hostKeyFingerprint,
      'github-token': fake.token,
      name: NAME,
      swap: 'off',
      'baseline-store': 'none',
      comment: 'never',
    };
    env = { GITHUB_API_URL: fake.url, GITHUB_REPOSITORY: `${fake.owner}/${fake.repo}` };
    await setDelay(BASE_DELAY_MS);
  });

  after(async () => {
    await fake?.close();
    await vm?.kill();
  });

  it('1. swap: verify on the swapless VM stops before any load, naming swap and suggesting configure', {
    timeout: 120_000,
  }, async (t) => {
    const requestsBefore = await accessLogLines('/slow');
    const run = await gate({ url: `${vm.appUrl}/slow`, ...LATENCY_LOAD, swap: 'verify', 'swap-size': '2x' }, 'pull_request');

    t.diagnostic(`VM booted: ssh after ${vm.bootTimings.sshMs} ms, app after ${vm.bootTimings.appMs} ms`);
    assert.equal(run.code, 1, shown(run));
    assert.equal(run.outputs.verdict, 'error');
    const [error] = annotations(run, 'error');
    assert.match(error ?? '', /swap: the target has 0 B of swap active.*less than the 1\.9 GiB `swap-size` asks for/);
    assert.match(error ?? '', /Set `swap: configure` to let loadgate create a 1\.9 GiB swap file at \/swapfile/);
    assert.match(run.summary, /swap: configure/);
    assert.equal(run.report.bursts.length, 0);
    assert.equal(await accessLogLines('/slow'), requestsBefore + 1, "only the check's request, sent before SSH: no load reached the app");
    assert.equal((await sh('cat /proc/swaps')).trim().split('\n').length, 1, 'verify changed nothing: still no swap');
    assert.equal(await fstabSwapLines(), 0);
  });

  it('2. swap: configure 2x creates and persists swap once; a second run changes nothing', { timeout: 180_000 }, async (t) => {
    const light = {
      url: `${vm.appUrl}/fast`,
      connections: '1',
      duration: '1s',
      bursts: '1',
      warmup: '0',
      swap: 'configure',
      'swap-size': '2x',
    };
    try {
      const first = await gate(light, 'pull_request');
      assert.equal(first.code, 0, shown(first));
      assert.equal(first.outputs.verdict, 'pass');
      const created = first.report.host!.swap;
      t.diagnostic(created.message);
      assert.equal(created.action, 'created');
      assert.equal(created.fstabLineAdded, true);
      assert.ok(
        Math.abs(created.after.totalBytes - 2 * created.before.memTotalBytes) < 8 << 20,
        `2x of MemTotal: ${created.after.totalBytes}`,
      );
      assert.match(
        first.stdout,
        /swap: created \/swapfile \(1\.9 GiB, (fallocate|dd)\) and activated it, added it to \/etc\/fstab; swap 0 B → 1\.9 GiB/,
      );
      assert.match(first.summary, /\*\*Swap\*\* \(`swap: configure`\)/);
      const swaps = await sh('cat /proc/swaps');
      assert.match(swaps, /^\/swapfile\s+file\s+\d+/m);
      assert.equal(await fstabSwapLines(), 1);

      const second = await gate(light, 'pull_request');
      assert.equal(second.code, 0, shown(second));
      assert.equal(second.report.host!.swap.action, 'already-active');
      assert.equal(second.report.host!.swap.fstabLineAdded, false);
      assert.match(second.stdout, /swap: \/swapfile already active with at least 1\.9 GiB; nothing changed\./);
      assert.equal((await sh('cat /proc/swaps')).split('\n').filter((line) => line.startsWith('/swapfile')).length, 1);
      assert.equal(await fstabSwapLines(), 1, 'the fstab line is there once');
    } finally {
      await removeSwap();
    }
    assert.equal(await fstabSwapLines(), 0);
    assert.equal((await sh('cat /proc/swaps')).trim().split('\n').length, 1, 'swap removed for the next scenarios');
  });

  it('3. three pushes to main record the baseline on the branch', { timeout: 240_000 }, async (t) => {
    const medians: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const run = await gate(
        { url: `${vm.appUrl}/slow`, ...LATENCY_LOAD, ...LIMITS, 'baseline-store': 'branch', 'update-baseline': 'auto', comment: 'always' },
        'push',
        { GITHUB_RUN_ID: `300${i}` },
      );
      assert.equal(run.code, 0, shown(run));
      assert.equal(run.outputs.verdict, 'pass', run.report.headline);
      assert.equal(run.report.baseline.recorded, true, run.report.baseline.recordNote);
      assert.equal(run.outputs['comment-url'], '', 'a push has no PR to comment on');
      if (i === 1) assert.match(run.report.headline, /^no baseline yet/);
      medians.push(Number(run.outputs['median-ms']));
    }
    const stored = parseDocument(fake.fileText('loadgate-baseline', baselineFilePath(NAME))!, 'branch');
    const runs = stored.histories[NAME] ?? [];
    assert.equal(runs.length, 3);
    for (const run of runs) {
      assert.ok(run.healthy, 'a run without crashes is a usable baseline');
      assert.equal(run.bursts.length, 3);
      assert.ok(run.host, 'the host summary is stored with the run');
      assert.ok(run.hostSpeedMbps !== undefined && run.hostSpeedMbps > 0, `host speed index ${run.hostSpeedMbps}`);
    }
    assert.ok((await accessLogLines('/slow')) > 0, "the access log counts the bursts' requests (scenario 1 counts on it)");
    t.diagnostic(`baseline runs' host speed: ${runs.map((run) => run.hostSpeedMbps).join(', ')} MB/s`);
    assert.equal(fake.comments(PR).length, 0);
    assert.deepEqual(fake.violations, []);
    t.diagnostic(`baseline runs' p50: ${medians.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    medians.sort((a, b) => a - b);
    baselineP50Ms = medians[1];
    // The service time the app really has: BASE_DELAY_MS plus the app's own work under TCG.
    assert.ok(
      baselineP50Ms! > BASE_DELAY_MS && baselineP50Ms! < BASE_DELAY_MS + 200,
      `baseline p50 ${baselineP50Ms} ms, for /slow that answers in ${BASE_DELAY_MS} ms plus the app's ~20 ms (curl agrees)`,
    );
  });

  it('4. an A/A pull request passes with one comment, updated in place by the next run', { timeout: 180_000 }, async (t) => {
    const inputs = { url: `${vm.appUrl}/slow`, ...LATENCY_LOAD, ...LIMITS, 'baseline-store': 'branch', comment: 'always' };
    const first = await gate(inputs, 'pull_request', { GITHUB_RUN_ID: '4001' });
    assert.equal(first.code, 0, shown(first));
    assert.equal(first.outputs.verdict, 'pass', first.report.headline);
    assert.equal(first.report.baseline.runs, 3);
    assert.equal(first.report.baseline.recorded, false);
    assert.match(first.outputs['comment-url'], new RegExp(`^https://github\\.com/.+/pull/${PR}#issuecomment-\\d+$`));
    assert.equal(fake.comments(PR).length, 1);
    const body = fake.comments(PR)[0]!.body;
    assert.ok(body.startsWith(`<!-- loadgate:${NAME} -->`));
    assert.match(body, new RegExp(`### ✅ ${NAME}: no regression: p50 [+-]\\d+\\.\\d%, p95 [+-]\\d+\\.\\d% vs baseline`));
    assert.match(body, /### Host under load/);
    firstCommentUrl = first.outputs['comment-url']!;

    const second = await gate(inputs, 'pull_request', { GITHUB_RUN_ID: '4002' });
    assert.equal(second.code, 0, shown(second));
    assert.equal(second.outputs.verdict, 'pass', second.report.headline);
    assert.equal(fake.comments(PR).length, 1, 'updated, not appended');
    assert.equal(second.outputs['comment-url'], firstCommentUrl);
    assert.equal(fake.requests.filter((request) => request.route === 'issues/update-comment' && request.status === 200).length, 1);
    assert.match(fake.comments(PR)[0]!.body, /actions\/runs\/4002/, 'the comment shows the second run');
    t.diagnostic(`A/A: ${first.report.headline} | ${second.report.headline}`);
    assert.deepEqual(fake.violations, []);
  });

  it('5. /slow made 30 % slower is a regression: exit 1, the comment shows the table and the chart', { timeout: 240_000 }, async (t) => {
    assert.ok(baselineP50Ms, 'scenario 3 measured the baseline');
    const injected = BASE_DELAY_MS + Math.round(SLOWDOWN * baselineP50Ms);
    await setDelay(injected);
    try {
      assert.equal((await sh('cat /etc/loadgate-demo/delay-ms')).trim(), String(injected));
      const run = await gate(
        // The probe in this TCG guest read 23.6, 34.5 and 83.2 MB/s over the three baseline runs, and a
        // run 19 % "slower" turned this +32 % into inconclusive (CI, 2026-12-02). Below 8 stored runs the
        // host speed rule cannot tell the probe's own spread from a slower host (verdict/host-speed-rule.ts);
        // scenario 11 checks the probe, this one the latency rule.
        { url: `${vm.appUrl}/slow`, ...LATENCY_LOAD, ...LIMITS, 'baseline-store': 'branch', comment: 'always', 'host-speed-probe': 'off' },
        'pull_request',
        { GITHUB_RUN_ID: '5001' },
      );
      assert.equal(run.code, 1, shown(run));
      assert.equal(run.outputs.verdict, 'regression', run.report.headline);
      const change = Number(run.outputs['median-change']);
      t.diagnostic(
        `delay ${BASE_DELAY_MS} → ${injected} ms on a ${baselineP50Ms.toFixed(1)} ms baseline p50: p50 ${run.outputs['median-ms']} ms (${run.outputs['median-change']} %), host speed ${run.outputs['host-speed-change']} %`,
      );
      assert.equal(run.outputs['host-speed-change'], '', 'host-speed-probe: off measures no host speed');
      assert.ok(change > 15 && change < 60, `p50 change ${run.outputs['median-change']} % for a +${SLOWDOWN * 100} % slowdown`);
      assert.equal(run.report.decision?.confirmed, true, 'a failing verdict is confirmed with more bursts');
      assert.equal(run.report.bursts.length, 6);
      assert.deepEqual(
        annotations(run, 'error').map((line) => /^❌ shop: p50 \+\d+\.\d% over baseline/.test(line)),
        [true],
      );

      assert.equal(fake.comments(PR).length, 1, 'the same comment, updated');
      assert.equal(run.outputs['comment-url'], firstCommentUrl);
      const body = fake.comments(PR)[0]!.body;
      assert.match(body, new RegExp(`### ❌ ${NAME}: p50 \\+\\d+\\.\\d% over baseline`));
      // Right-aligned columns pad their titles when a cell is wider (the host memory row's is).
      assert.match(body, /\| Metric +\| +Baseline +\| +This PR +\|(?: +Other measure +\|)? +Change +\| +Limit +\| Status +\|/);
      // Each row compares like with like and names its basis: "p50 (median), service time | 105 ms | 137 ms | 138 ms end to end".
      assert.match(
        body,
        /\| p50 \(median\)(?:, (?:service time|end to end))? +\| +[\d.]+ ms \| +[\d.]+ ms \|(?: +[\d.]+ ms (?:end to end|service) +\|)? +\+\d+\.\d% \| +\+15% \| ❌ regression +\|/,
      );
      assert.match(body, /```mermaid\n[\s\S]*xychart-beta[\s\S]*line "baseline" \[[\d., ]+\]\n\s*line "this PR" \[[\d., ]+\]\n```/);
      const stored = parseDocument(fake.fileText('loadgate-baseline', baselineFilePath(NAME))!, 'branch');
      assert.equal(stored.histories[NAME]?.length, 3, 'PR runs never write the baseline');
      assert.deepEqual(fake.violations, []);
    } finally {
      await setDelay(BASE_DELAY_MS);
    }
  });

  it("6. /hungry without swap: the OOM kill and gunicorn's SIGKILL line make it a regression", { timeout: 600_000 }, async (t) => {
    // The first OOM kill after boot took 17–295 s of /hungry load under TCG at 300 MiB held
    // 750 ms: demand hovering just above RAM keeps the kernel reclaiming page cache before it gives
    // up. 600 MiB held 3 s overshoots harder: 32–33 s on a freshly booted VM, but still 264 s after
    // scenarios 1–5 (measured); later ones come within seconds. A gate burst that long would mostly measure the thrashing, so one
    // kill is provoked first. That also proves the watch does not blame an earlier kill on the run.
    await sh('echo 600 > /etc/loadgate-demo/hungry-mb; echo 3000 > /etc/loadgate-demo/hungry-hold-ms');
    const killsBeforeTrigger = await oomKillCount();
    const triggerStarted = Date.now();
    do {
      assert.ok(Date.now() - triggerStarted < 420_000, 'no OOM kill after 420 s of /hungry');
      // One request per worker and no client timeout that matters: a request queued behind busy
      // workers, or abandoned by its client, would still run later and prolong the thrashing.
      await Promise.allSettled(
        Array.from({ length: WORKERS }, () =>
          fetch(`${vm.appUrl}/hungry`, { signal: AbortSignal.timeout(300_000) }).then((res) => res.arrayBuffer()),
        ),
      );
    } while ((await oomKillCount()) === killsBeforeTrigger);
    t.diagnostic(`first OOM kill provoked after ${((Date.now() - triggerStarted) / 1000).toFixed(0)} s of /hungry`);
    await sh('echo 300 > /etc/loadgate-demo/hungry-mb; echo 750 > /etc/loadgate-demo/hungry-hold-ms');
    const earlierPids = new Set(await kernelKilledPids());
    const killsBefore = await oomKillCount();
    // /hungry requests still running after the gate would go on killing workers into scenario 7.
    try {
      const run = await gate(
        { url: `${vm.appUrl}/hungry`, ...HUNGRY_LOAD, 'logs-command': LOGS_COMMAND, comment: 'always', name: 'hungry' },
        'pull_request',
        { GITHUB_RUN_ID: '6001' },
      );
      assert.equal(run.code, 1, shown(run));
      assert.equal(run.outputs.verdict, 'regression', `${run.report.headline}\n${shown(run)}`);
      assert.equal(run.report.decision?.crashed, true);

      const kills = run.report.host!.bursts.flatMap((burst) => burst.oomKills);
      assert.ok(
        kills.length > 0,
        `the kernel's kill is named (gaps: ${run.report.host!.bursts.flatMap((burst) => burst.gaps).join('; ')})`,
      );
      for (const kill of kills) {
        assert.equal(kill.name, 'gunicorn');
        assert.ok(!earlierPids.has(kill.pid), `pid ${kill.pid} was killed before the run, yet blamed on it`);
      }
      const killedPids = new Set(kills.map((kill) => kill.pid));
      const crashLines = run.report.host!.bursts.flatMap((burst) => burst.crashLines.quoted);
      const sigkill = crashLines.find((crash) => killedPids.has(Number(SIGKILL_LINE.exec(crash.line)?.[1])));
      assert.ok(
        sigkill,
        `gunicorn's SIGKILL line for a killed pid (${[...killedPids].join(', ')}) is quoted: ${JSON.stringify(crashLines)}`,
      );
      const pid = Number(SIGKILL_LINE.exec(sigkill.line)![1]);
      t.diagnostic(`killed during the run: pids ${[...killedPids].join(', ')}; quoted: ${sigkill.line}`);

      const body = fake.comments(PR).find((comment) => comment.body.startsWith('<!-- loadgate:hungry -->'))?.body;
      assert.ok(body, 'the hungry gate commented');
      for (const text of [body, run.summary]) {
        assert.match(
          text,
          /\*\*Diagnosis:\*\* The kernel killed gunicorn \(pid \d+, \d+ MB\) at \d\d:\d\d:\d\d UTC.*; no swap was active\./,
        );
        assert.ok(text.includes(sigkill.line), 'the SIGKILL line is quoted');
        const row = hostRow(text);
        assert.equal(row['Swap used peak'], 'no swap');
        assert.ok(Number(row['OOM kills']) >= 1, `OOM kills column: ${row['OOM kills']}`);
        assert.ok(Number(row['Crash lines']) >= 1);
      }

      // The VM agrees: the kernel killed that worker, gunicorn said so, and the service lives on.
      assert.ok((await oomKillCount()) > killsBefore);
      assert.ok((await kernelKilledPids()).includes(pid), `kernel line for pid ${pid}`);
      assert.match(await sh(`sudo -n grep -F 'Worker (pid:${pid}) was sent SIGKILL!' /var/log/gunicorn/error.log`), SIGKILL_LINE);
      assert.equal((await sh('systemctl is-active gunicorn')).trim(), 'active');

      // The check title: what a reviewer reads first.
      assert.doesNotMatch(run.report.headline, /target crashed under load: target crashed under load/, 'the check title says it once');
      for (const text of [body, run.summary]) {
        assert.match(text, /### ❌ hungry: target crashed under load: the kernel killed gunicorn \(pid \d+/);
      }
    } finally {
      await restartApp();
    }
  });

  it('7. /hungry with swap configured: no OOM kill, swap used and swap-in shown in the host table', { timeout: 240_000 }, async (t) => {
    const killsBefore = await oomKillCount();
    const swapInsBefore = await vmstat('pswpin');
    try {
      const run = await gate(
        // The host's headroom is gated by default (min-memory-headroom 10 %): 1.2 GiB wanted on a 972 MB guest leaves less. This
        // scenario is about swap itself, so the headroom is only reported here (scenario 9 gates memory).
        {
          url: `${vm.appUrl}/hungry`,
          ...HUNGRY_LOAD,
          // 40 s, not 20: swapping under TCG, a /hungry request took longer than a 20 s burst on
          // this machine (no 2xx measured in 4 of 4 runs on 2026-12-01).
          duration: '40s',
          'logs-command': LOGS_COMMAND,
          name: 'hungry-swap',
          swap: 'configure',
          'swap-size': '2x',
          'min-memory-headroom': '0%',
        },
        'pull_request',
        { GITHUB_RUN_ID: '7001' },
      );
      assert.equal(run.code, 0, shown(run));
      assert.equal(run.outputs.verdict, 'pass', run.report.headline);
      assert.equal(run.report.host!.swap.action, 'created');
      const bursts = run.report.host!.bursts;
      assert.deepEqual(
        bursts.flatMap((burst) => burst.oomKills),
        [],
      );
      assert.equal(
        bursts.reduce((sum, burst) => sum + (burst.figures.oomKills ?? 0), 0),
        0,
      );
      assert.equal(
        bursts.reduce((sum, burst) => sum + burst.crashLines.total, 0),
        0,
      );
      assert.ok(
        bursts.some((burst) => (burst.figures.swapUsedPeakKib ?? 0) > 0),
        'swap was used',
      );
      assert.ok(
        bursts.some((burst) => burst.figures.swapInPages > 0),
        'pages were swapped back in',
      );

      const row = hostRow(run.summary);
      t.diagnostic(`swap used peak ${row['Swap used peak']}, swap-in pages ${row['Swap-in pages']}, p50 ${run.outputs['median-ms']} ms`);
      assert.match(row['Swap used peak']!, /^[1-9]\d* MB$/);
      assert.ok(Number(row['Swap-in pages']) > 0, `Swap-in pages column: ${row['Swap-in pages']}`);
      assert.equal(row['OOM kills'], '0');
      assert.ok(Number(run.outputs['memory-headroom']) < 50, `memory-headroom ${run.outputs['memory-headroom']} % while /hungry swaps`);
      assert.match(run.summary, /\*\*Diagnosis:\*\* The host swapped under load \(\d+ pages swapped in\)/);

      assert.equal(await oomKillCount(), killsBefore, 'the kernel killed nothing');
      assert.ok((await vmstat('pswpin')) > swapInsBefore, 'the guest swapped pages in');
    } finally {
      await restartApp();
      await removeSwap();
    }
  });

  it("8. two runs started together: the second waits for the first's lock, both finish", { timeout: 240_000 }, async (t) => {
    const inputs = { url: `${vm.appUrl}/fast`, connections: '2', duration: '2s', bursts: '2', warmup: '0', name: 'lock' };
    const runIds = ['8001', '8002'];
    const runs = await Promise.all(runIds.map((id) => gate(inputs, 'pull_request', { GITHUB_RUN_ID: id })));
    for (const run of runs) {
      assert.equal(run.code, 0, shown(run));
      assert.equal(run.outputs.verdict, 'pass', run.report.headline);
      assert.match(run.stdout, /Holding the lock on the target \(\/run\/loadgate-lock\/lock\) for run 800[12]/);
    }
    const waited = runs.map((run) => /Waiting up to 10 min for the lock on the target, held by run (\d+) of /.exec(run.stdout)?.[1]);
    assert.equal(waited.filter(Boolean).length, 1, `exactly one run waited: ${JSON.stringify(waited)}`);
    const waiter = waited[0] ? 0 : 1;
    const holder = 1 - waiter;
    assert.equal(waited[waiter], runIds[holder], 'the waiting run names the holder');
    // The measurements did not overlap: the waiter's first burst began after the holder's last ended.
    const holderEnd = Math.max(...runs[holder]!.report.bursts.map((burst) => Date.parse(burst.startedAt) + burst.durationMs));
    const waiterStart = Math.min(...runs[waiter]!.report.bursts.map((burst) => Date.parse(burst.startedAt)));
    t.diagnostic(
      `run ${runIds[waiter]} waited for run ${runIds[holder]}; its bursts began ${((waiterStart - holderEnd) / 1000).toFixed(1)} s after the holder's ended`,
    );
    assert.ok(
      waiterStart >= holderEnd,
      `waiter began at ${new Date(waiterStart).toISOString()}, holder ended at ${new Date(holderEnd).toISOString()}`,
    );
  });

  it('9. workers 60 MB bigger, with swap: a memory regression while latency passes; no leak passes', { timeout: 600_000 }, async (t) => {
    const setBallast = (mb: number) => sh(`echo ${mb} > /etc/loadgate-demo/ballast-mb`);
    // One connection per worker, so every worker serves requests (and holds the ballast) in every run.
    // Latency limits wide of the VM's run-to-run noise under TCG (±20 % on a busy host): this
    // scenario is about memory, and "latency alone would pass" is judged against these limits.
    const memory = {
      url: `${vm.appUrl}/slow`,
      ...LATENCY_LOAD,
      // A worker allocates its ballast on its first request, seconds under TCG with swap: a long
      // warmup lets every worker do so before the measured bursts, and a request that still waits
      // on it is not cut at 10 s (one CI run measured no 2xx at all).
      warmup: '15s',
      timeout: '30s',
      'max-median-increase': '50%',
      'max-p95-increase': '100%',
      connections: String(WORKERS),
      name: 'memory',
      'service-match': 'gunicorn',
      'baseline-store': 'branch',
      swap: 'configure',
      'swap-size': '2x',
    };
    try {
      await setBallast(0);
      const peaks: number[] = [];
      for (let i = 1; i <= 3; i++) {
        const run = await gate({ ...memory, 'update-baseline': 'auto' }, 'push', { GITHUB_RUN_ID: `900${i}` });
        assert.notEqual(run.outputs.verdict, 'error', shown(run));
        assert.equal(run.report.baseline.recorded, true, run.report.baseline.recordNote);
        peaks.push(Number(run.outputs['service-memory-mb']));
      }
      t.diagnostic(`baseline service memory peaks: ${peaks.join(', ')} MB`);
      const stored = parseDocument(fake.fileText('loadgate-baseline', baselineFilePath('memory'))!, 'branch').histories.memory ?? [];
      assert.equal(stored.filter((run) => run.serviceMemory?.label === 'gunicorn').length, 3, 'each run stored its peak');

      const clean = await gate(memory, 'pull_request', { GITHUB_RUN_ID: '9004' });
      assert.equal(clean.code, 0, shown(clean));
      assert.equal(clean.outputs.verdict, 'pass', clean.report.headline);
      const cleanChange = Number(clean.outputs['memory-change']);
      assert.ok(Math.abs(cleanChange) < 20, `memory-change ${cleanChange} over 3 baseline runs`);

      // 5 processes × 100 MB pushed the 1 GiB guest into swap in one CI run (p95 +499 %): 60 MB keeps
      // the growth far above the +20 % limit and the latency out of it.
      await setBallast(60);
      const leaking = await gate(memory, 'pull_request', { GITHUB_RUN_ID: '9005' });
      const { 'memory-change': change, 'memory-headroom': headroom } = leaking.outputs;
      t.diagnostic(`leaking build: ${leaking.report.headline}; memory-change ${change}, headroom ${headroom} %`);
      assert.equal(leaking.code, 1, shown(leaking));
      assert.equal(leaking.outputs.verdict, 'regression');
      assert.deepEqual(
        leaking.report.host!.bursts.flatMap((burst) => burst.oomKills),
        [],
        'not enough to be killed',
      );
      // Named per process, the workers that grew first (a worker's parent, the master, is matched too).
      const growth = /^gunicorn peaked at \d+ MB, \+\d+ MB \(\+\d+\.\d%\) over baseline; by process: [\w. ]+ worker \+\d+ MB/;
      assert.match(leaking.report.headline, growth);
      const rows = leaking.report.decision!.comparisons;
      assert.equal(rows.find((row) => row.metric === 'serviceMemory')?.status, 'regression');
      for (const metric of ['p50', 'p95'] as const) {
        assert.notEqual(rows.find((row) => row.metric === metric)?.status, 'regression', `${metric} passes`);
      }
      assert.match(
        leaking.summary,
        /\| service memory \(peak\) +\| +\d+ MB \| +\d+ MB \|(?: +— +\|)? +\+\d+\.\d% \| +\+20% +\| ❌ regression/,
      );
      assert.match(leaking.summary, /\| host memory available \(min\) +\|/);
      assert.match(leaking.summary, /\*\*Service memory\*\* \(`gunicorn`, measured as /);
    } finally {
      await setBallast(0);
      await restartApp();
      await removeSwap();
    }
  });

  it("10. service-unit: the gunicorn unit's cgroup is the service's memory", { timeout: 180_000 }, async () => {
    const inputs = { url: `${vm.appUrl}/fast`, connections: '2', duration: '2s', bursts: '2', warmup: '0', name: 'unit' };
    const run = await gate({ ...inputs, 'service-unit': 'gunicorn.service' }, 'pull_request', { GITHUB_RUN_ID: '10001' });
    assert.equal(run.code, 0, shown(run));
    for (const burst of run.report.host!.bursts) {
      const figures = burst.figures.service;
      assert.equal(figures?.source, 'cgroup', JSON.stringify(figures));
      assert.ok(figures.processesAtPeak >= WORKERS + 1, `master and ${WORKERS} workers in the unit: ${figures.processesAtPeak}`);
      // A freshly restarted gunicorn with Django in each worker: tens of MB, never a few KiB.
      assert.ok(figures.peakKib > 20 * 1024, `memory.current ${figures.peakKib} KiB`);
    }
    assert.match(run.summary, /\*\*Service memory\*\* \(`gunicorn\.service`, measured as the unit's cgroup/);
  });

  it('11. the guest throttled from outside (a CPU cgroup around qemu): the same build is not blamed, the host is named', {
    timeout: 300_000,
  }, async (t) => {
    // A fine-grained cap (10 ms period), as a hypervisor holds a host out of CPU credits.
    const cgroup = `/sys/fs/cgroup/cpu/loadgate-e2e-guest-${process.pid}`;
    mkdirSync(cgroup);
    try {
      writeFileSync(join(cgroup, 'cpu.cfs_period_us'), '10000');
      writeFileSync(join(cgroup, 'cpu.cfs_quota_us'), '3500');
      writeFileSync(join(cgroup, 'cgroup.procs'), String(vm.qemuPid));
      const run = await gate(
        { url: `${vm.appUrl}/slow`, ...LATENCY_LOAD, ...LIMITS, 'baseline-store': 'branch', comment: 'never', name: NAME },
        'pull_request',
        { GITHUB_RUN_ID: '11001' },
        300_000,
      );
      const speed = Number(run.outputs['host-speed-change']);
      t.diagnostic(`guest at 35 % of a core: ${run.report.headline}; p50 ${run.outputs['median-change']} %, host speed ${speed} %`);
      assert.ok(speed <= -30, `host-speed-change ${run.outputs['host-speed-change']} % for a guest held to 35 % of a core`);
      assert.equal(run.code, 0, shown(run));
      assert.ok(['pass', 'inconclusive'].includes(run.outputs.verdict!), `${run.outputs.verdict}: ${run.report.headline}`);
      if (run.outputs.verdict === 'inconclusive') {
        assert.match(run.report.headline, /^the host ran \d+(\.\d+)?% slower than in its history \(CPU credits, steal or a neighbour\)/);
      }
      assert.match(run.summary, /\| host speed \(CPU probe\) +\| +[\d.]+ MB\/s \| +[\d.]+ MB\/s \|.*⚠️ host changed/);
    } finally {
      // Back to the root group, so that the group can go.
      writeFileSync('/sys/fs/cgroup/cpu/cgroup.procs', String(vm.qemuPid));
      await removeCgroup(cgroup);
    }
  });
  it('12. the guest behind a delay line and throttled from outside: the same build is not blamed, +30 % is a regression', {
    timeout: 900_000,
  }, async (t) => {
    assert.ok(baselineP50Ms, 'scenario 3 measured the baseline');
    // qemu's hostfwd answers the TCP handshake on this machine itself, so the delay must sit in front
    // of it: the app's forwarded port behind the delay line (test/support/delay-line.ts).
    const remote = await delayedPort(
      `lgvm${process.pid % 10_000}`,
      '10.213.12',
      8000,
      { host: '127.0.0.1', port: Number(new URL(vm.appUrl).port) },
      10,
    );
    const cgroup = `/sys/fs/cgroup/cpu/loadgate-e2e-remote-${process.pid}`;
    mkdirSync(cgroup);
    const setQuota = (share: number | 'unlimited') =>
      writeFileSync(join(cgroup, 'cpu.cfs_quota_us'), share === 'unlimited' ? '-1' : String(Math.round(share * 10_000)));
    try {
      writeFileSync(join(cgroup, 'cpu.cfs_period_us'), '10000');
      setQuota('unlimited');
      writeFileSync(join(cgroup, 'cgroup.procs'), String(vm.qemuPid));
      const inputs = {
        url: `${remote.origin}/slow`,
        ...LATENCY_LOAD,
        ...LIMITS,
        'baseline-store': 'branch',
        comment: 'never',
        name: 'remote',
        // Without the host speed probe: in this TCG guest held to 90 % of a core it read −54 % and −21 %
        // on two runs a minute apart (CI, 2026-12-02), and the second made the +30 % run inconclusive.
        // The probe's own check is scenario 11's; this one is about the network and service time.
        'host-speed-probe': 'off',
      };
      // 8 stored runs: from there the stored rule judges against the history's own spread, and the
      // history may be adjusted on the RTT.
      for (let i = 1; i <= 8; i++) {
        const run = await gate({ ...inputs, 'update-baseline': 'auto' }, 'push', { GITHUB_RUN_ID: `1200${i}` });
        assert.equal(run.code, 0, shown(run));
        assert.equal(run.report.baseline.recorded, true, run.report.baseline.recordNote);
        assert.ok(
          Math.abs(Number(run.outputs['network-rtt-ms']) - 10) < 4,
          `network RTT ${run.outputs['network-rtt-ms']} ms through a 10 ms delay line`,
        );
      }
      // The runner now 20 ms further away, the guest held to 90 % of a core.
      await remote.setRttMs(30);
      setQuota(0.9);
      const same = await gate(inputs, 'pull_request', { GITHUB_RUN_ID: '12101' });
      t.diagnostic(
        `same build, RTT ${same.outputs['network-rtt-ms']} ms, guest at 90 %: ${same.report.headline}; p50 ${same.outputs['median-change']} %, service p50 ${same.outputs['service-median-ms']} ms, `,
      );
      assert.equal(same.code, 0, shown(same));
      assert.ok(
        Math.abs(Number(same.outputs['network-rtt-ms']) - 30) < 4,
        `network RTT ${same.outputs['network-rtt-ms']} ms through a 30 ms delay line`,
      );
      assert.equal(same.report.decision?.latencyBasis, 'service-time');
      assert.ok(['pass', 'inconclusive'].includes(same.outputs.verdict!), `${same.outputs.verdict}: ${same.report.headline}`);
      // End to end the same build reads 40 ms slower: what network-rtt: auto keeps out of the verdict.
      assert.ok(Number(same.outputs['median-ms']) > baselineP50Ms + 15, `end-to-end p50 ${same.outputs['median-ms']} ms`);

      await setDelay(BASE_DELAY_MS + Math.round(SLOWDOWN * baselineP50Ms));
      const slower = await gate(inputs, 'pull_request', { GITHUB_RUN_ID: '12102' });
      t.diagnostic(`+30 %, same network and guest: ${slower.report.headline}; p50 ${slower.outputs['median-change']} %`);
      assert.equal(slower.code, 1, shown(slower));
      assert.equal(slower.outputs.verdict, 'regression', slower.report.headline);
      assert.equal(slower.report.decision?.latencyBasis, 'service-time');
      const change = Number(slower.outputs['median-change']);
      assert.ok(change > 15 && change < 60, `p50 change ${change} % for a +${SLOWDOWN * 100} % slowdown`);
    } finally {
      await setDelay(BASE_DELAY_MS);
      writeFileSync('/sys/fs/cgroup/cpu/cgroup.procs', String(vm.qemuPid));
      await removeCgroup(cgroup);
      await remote.close();
    }
  });
});
