// The CI variant of the power benchmark, end to end: real gate runs against real services on
// 127.0.0.1. It must finish, find the +50% slowdowns and not cry wolf at 0%.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/power.ts', ...args], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('bench/power.ts --quick flags +50% and stays quiet at 0% in both modes', { timeout: 170_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-power-test-'));
  try {
    const out = join(dir, 'power.json');
    const { code, stdout, stderr } = await run(['--quick', '--out', out]);
    assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr.slice(-2000)}`);
    assert.match(stdout, /\| stored, defaults \| \+50% all requests \(p50 and p95\) \| \d+\/\d+ = [\d.]+% \(detected\)/);
    assert.match(stdout, /\| ab, defaults \| 0% \(no change\) \| \d+\/\d+ = [\d.]+% \(false alarms\)/);
    const result = JSON.parse(await readFile(out, 'utf8'));
    assert.equal(result.variant, 'quick');
    assert.deepEqual(result.grossProblems, []);
    for (const mode of ['stored', 'ab']) {
      const quiet = result.cases.find((c: { mode: string; size: number }) => c.mode === mode && c.size === 0);
      const slow = result.cases.find((c: { mode: string; size: number }) => c.mode === mode && c.size === 0.5);
      assert.ok(quiet.runs >= 2 && slow.runs >= 2, `${mode}: too few runs (${quiet.runs}, ${slow.runs})`);
      assert.ok(quiet.regression <= 1, `${mode}: ${quiet.regression}/${quiet.runs} false alarms at 0%`);
      assert.ok(slow.regression / slow.runs >= 0.75, `${mode}: +50% detected ${slow.regression}/${slow.runs}`);
      // The injected slowdown is what the gate measured: +50% within a wide margin.
      assert.ok(slow.medianP50Change > 0.35 && slow.medianP50Change < 0.7, `${mode}: measured p50 change ${slow.medianP50Change}`);
      assert.equal(slow.error + quiet.error, 0);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
