// GitHub's local runner for JavaScript actions, run exactly as README's "Run it locally" says:
// `npx @github/local-action . src/main.ts .env`. It imports src/main.ts under tsx, calls its
// exported run() with @actions/core replaced by its stubs, and reads action.yml with a strict
// YAML parser. It needs Node 22 or 24: the test puts the Node 24 binary first on PATH.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { node24 } from '../support/run-bundle.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** The rows of local-action's "Action Outputs" table: what its core stub recorded from setOutput. */
function recordedOutputs(stdout: string): Record<string, string> {
  const table = stdout.slice(stdout.lastIndexOf('Action Outputs'));
  const outputs: Record<string, string> = {};
  for (const row of table.matchAll(/^│ \d+\s+│ '([^']+)'\s+│ '([^']*)'\s+│$/gm)) outputs[row[1]] = row[2];
  return outputs;
}

/** The environment of a developer's shell: no runner variables, so nothing but the .env file feeds the action. */
function developerEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(GITHUB_|RUNNER_|INPUT_|ACTIONS_)/.test(name)));
  return { ...env, PATH: `${dirname(node24())}:${process.env.PATH ?? '/usr/bin:/bin'}`, NO_COLOR: '1', FORCE_COLOR: '0' };
}

describe('npx @github/local-action . src/main.ts .env', { timeout: 180_000 }, () => {
  let target: DemoTarget;
  let dir: string;

  before(async () => {
    target = await startTarget({ delayMs: 20 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-local-action-'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the action from source against a loopback target and sets its outputs', async () => {
    const envFile = join(dir, '.env');
    // No GITHUB_STEP_SUMMARY: local-action's summary stub throws without it, and a verdict must not.
    await writeFile(
      envFile,
      [
        `INPUT_URL=${target.url}`,
        'INPUT_CONNECTIONS=4',
        'INPUT_DURATION=1s',
        'INPUT_BURSTS=2',
        'INPUT_WARMUP=500ms',
        // Two load processes: forked from source, they must find src/load/load-worker.ts.
        'INPUT_LOAD-PROCESSES=2',
        'INPUT_BASELINE-STORE=none',
        'INPUT_COMMENT=never',
        `RUNNER_TEMP=${dir}`,
        'ACTIONS_STEP_DEBUG=true',
        '',
      ].join('\n'),
    );
    const before = target.requests;
    const command = ['@github/local-action', '.', 'src/main.ts', envFile];
    const child = spawn('npx', command, { cwd: ROOT, env: developerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const log = `${stdout}\n${stderr}`;
    assert.equal(code, 0, log);
    assert.doesNotMatch(stdout, /::error::/, log);
    assert.match(stdout, /GITHUB_STEP_SUMMARY is not set: no job summary written\./, 'the skipped summary is a debug line');
    const outputs = recordedOutputs(stdout);
    // Every output action.yml declares, set once (empty where there is nothing to say).
    const declared = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { outputs: Record<string, unknown> };
    assert.deepEqual(Object.keys(outputs).sort(), Object.keys(declared.outputs).sort(), log);
    assert.equal(outputs.verdict, 'pass');
    assert.ok(Math.abs(Number(outputs['median-ms']) - 20) < 4, `median-ms ${outputs['median-ms']} for a 20 ms service`);
    assert.ok(Number(outputs['p95-ms']) >= Number(outputs['median-ms']));
    assert.equal(outputs['median-change'], '', 'no baseline, no change');
    assert.ok(outputs.report.startsWith(dir) && existsSync(outputs.report), `report at ${outputs.report}`);
    const report = JSON.parse(await readFile(outputs.report, 'utf8')) as { settings: { loadProcesses: number }; bursts: { ok: number }[] };
    assert.equal(report.settings.loadProcesses, 2);
    assert.equal(report.bursts.length, 2);
    const counted = report.bursts.reduce((sum, burst) => sum + burst.ok, 0);
    assert.ok(target.requests - before >= counted, 'the target served every counted response');
  });
});
