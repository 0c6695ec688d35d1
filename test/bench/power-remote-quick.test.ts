// The CI variant of profile R (bench/power-remote.ts): real gate runs against a service behind the
// delay line, in a CPU cgroup with its sshd, RTT and quota drawn per run. It must finish, catch
// +30 % and not cry wolf at 0 %, with the history adjusted and judged on service time.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

test('bench/power-remote.ts --quick: profile R on the real pipeline flags +30 % and stays quiet at 0 %', { timeout: 400_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-power-remote-test-'));
  try {
    const out = join(dir, 'power-remote.json');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/power-remote.ts', '--quick', '--out', out], { cwd: REPO });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (exit) => resolve({ code: exit, stdout, stderr }));
    });
    assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr.slice(-3000)}`);
    assert.match(stdout, /\| 0% \(no change\) \| 4 \| \d\/4 = [\d.]+% \(95% upper bound [\d.]+%\) \|/);
    const result = JSON.parse(await readFile(out, 'utf8'));
    assert.equal(result.variant, 'quick');
    const [quiet, slow] = result.rows;
    assert.ok(quiet.regression <= 1, `${quiet.regression}/${quiet.runs} false alarms at 0 %`);
    assert.ok(slow.regression >= slow.runs - 1, `+30 % detected ${slow.regression}/${slow.runs}`);
    assert.ok(slow.p50Change > 0.2 && slow.p50Change < 0.45, `measured p50 change ${slow.p50Change}`);
    // The drift is the network's and the host's: each run measured both, and the verdict used them.
    for (const run of result.records) {
      assert.equal(run.basis, 'service-time', `${run.case}: judged ${run.basis} (RTT ${run.conditions.rttMs} ms)`);
      assert.ok(Math.abs(run.rttMs - run.conditions.rttMs) < 3, `RTT measured ${run.rttMs} ms, set ${run.conditions.rttMs} ms`);
      assert.ok(run.hostSpeedChange !== undefined, 'a host speed figure');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
