// The `loadgate` command's progress: on a terminal (a pseudo-terminal made by util-linux `script`)
// one live line redrawn in place; piped, plain lines only, with no carriage return or escape.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type DemoTarget } from '../../src/demo/target.ts';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
/** Where tsx resolves from. */
const ROOT = new URL('../..', import.meta.url).pathname;
const ERASE_LINE = '\r\u001b[2K';

/** `node … loadgate <flags>` as argv, the CLI's source run through tsx (as terminal-output.test.ts does). */
function loadgate(flags: string[]): string[] {
  const entry = `import(${JSON.stringify(CLI)}).then((cli) => cli.main(process.argv.slice(1)))`;
  return [process.execPath, '--import', 'tsx', '-e', entry, '--', ...flags];
}

const shellWord = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Runs `argv` and collects its stdout and stderr; killed after a minute. */
async function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe('the loadgate command shows its progress', { timeout: 180_000 }, () => {
  let target: DemoTarget;
  let dir: string;
  let flags: string[];
  before(async () => {
    target = await startTarget({ delayMs: 10 });
    dir = await mkdtemp(join(tmpdir(), 'loadgate-progress-cli-'));
    flags = ['--url', target.url, '--duration', '1s', '--bursts', '2', '--warmup', '500ms', '--baseline-store', 'none'];
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('on a terminal, as one live line redrawn in place (phase, burst, time left) above which the burst lines print', async () => {
    const command = loadgate([...flags, '--report-path', join(dir, 'tty.json')])
      .map(shellWord)
      .join(' ');
    // `script` gives the command a pseudo-terminal for stdin, stdout and stderr, and copies what it shows to our stdout.
    const terminal = await run(['script', '-qfec', command, '/dev/null']);
    assert.equal(terminal.code, 0, terminal.stdout + terminal.stderr);
    // What each carriage return and erase-line drew: the live line, or a plain line (ending the pty's \r\n) above it.
    const drawn = terminal.stdout.split(ERASE_LINE);
    for (const live of [
      'loadgate warmup, about 1 s left',
      'loadgate bursts: burst 1/2, about 2 s left',
      'loadgate bursts: burst 2/2, about 1 s left',
    ]) {
      assert.ok(drawn.includes(live), `no live line "${live}" in ${JSON.stringify(drawn)}`);
    }
    const burstLines = drawn.flatMap((text, i) => (text.startsWith('burst ') ? [{ text, next: drawn[i + 1] }] : []));
    assert.deepEqual(
      burstLines.map(
        ({ text }) => /^burst (\d)\/2: p50 \d+\.\d ms, p95 \d+\.\d ms, \d+ req\/s, 0 errors, service p50 [\d.]+ ms\r\n$/.exec(text)?.[1],
      ),
      ['1', '2'],
      JSON.stringify(drawn),
    );
    // After a plain line, the live line comes back under it.
    for (const { next } of burstLines) assert.match(next ?? '', /^loadgate bursts/);
    // Escape sequences are ours only: each one an erase-line after a carriage return.
    assert.equal(terminal.stdout.split('\u001b').length, drawn.length);
  });

  it('piped, as plain lines: one per burst, no carriage return, no escape sequence', async () => {
    const piped = await run(loadgate([...flags, '--report-path', join(dir, 'piped.json')]));
    assert.equal(piped.code, 0, piped.stdout + piped.stderr);
    for (const [stream, text] of Object.entries(piped)) {
      if (typeof text !== 'string') continue;
      assert.ok(!text.includes('\r'), `a carriage return on ${stream}: ${JSON.stringify(text)}`);
      assert.ok(!text.includes('\u001b'), `an escape on ${stream}: ${JSON.stringify(text)}`);
    }
    const burstLines = piped.stderr.split('\n').filter((line) => line.startsWith('burst '));
    assert.deepEqual(
      burstLines.map(
        (line) => /^burst (\d)\/2: p50 \d+\.\d ms, p95 \d+\.\d ms, \d+ req\/s, 0 errors, service p50 \d+\.\d+ ms$/.exec(line)?.[1],
      ),
      ['1', '2'],
      piped.stderr,
    );
    assert.ok(!piped.stderr.includes('s left'), piped.stderr);
  });
});
