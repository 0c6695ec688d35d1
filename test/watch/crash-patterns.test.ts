import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scanCrashLines, unseenLines } from '../../src/watch/crash-patterns.ts';

describe('crash lines in logs-command output', { timeout: 10_000 }, () => {
  test("a killed gunicorn worker as gunicorn 21 and Debian 12's gunicorn 20.1 print it", () => {
    const lines = [
      '[2026-12-07 10:00:01 +0000] [3830] [ERROR] Worker (pid:3834) was sent SIGKILL! Perhaps out of memory?',
      '[2026-12-07 10:00:01 +0000] [3830] [WARNING] Worker with pid 3834 was terminated due to signal 9',
      '[2026-12-07 10:00:02 +0000] [3830] [WARNING] Worker with pid 3835 was terminated due to signal 15',
    ];
    assert.deepEqual(
      scanCrashLines(lines).quoted.map((crash) => crash.line),
      lines.slice(0, 2),
    );
    assert.equal(scanCrashLines(lines).quoted[1]?.kind, 'worker killed (SIGKILL, perhaps out of memory)');
  });

  test('each pattern is recognised and named; ordinary lines are not', () => {
    const lines = [
      '[2024-05-01 14:02:11 +0000] [700] [ERROR] Worker (pid:812) was sent SIGKILL! Perhaps out of memory?',
      '[2024-05-01 14:02:12 +0000] [700] [CRITICAL] WORKER TIMEOUT (pid:813)',
      'app-1  | FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      'Traceback: MemoryError',
      'fork: Out of memory',
      'kernel: python3[900]: segfault at 0 ip 000055 sp 00007f error 4',
      '/entrypoint.sh: line 3:    42 Killed                  python app.py',
      '[2024-05-01 14:02:13 +0000] [814] [INFO] Booting worker with pid: 814',
      'GET /health 200 killed_sessions=0',
    ];
    const scan = scanCrashLines(lines);
    assert.equal(scan.total, 7);
    assert.deepEqual(
      scan.quoted.map((crash) => crash.kind),
      [
        'worker killed (SIGKILL, perhaps out of memory)',
        'worker timeout',
        'JavaScript heap out of memory',
        'MemoryError',
        'out of memory',
        'segmentation fault',
        'killed',
      ],
    );
    assert.equal(scan.quoted[0]?.line, lines[0]);
  });

  test('quoting is capped, long lines shortened, colour codes removed', () => {
    const lines = Array.from(
      { length: 25 },
      (_, i) => `\u001b[36mweb-1 |\u001b[0m Worker (pid:${i}) was sent SIGKILL! Perhaps out of memory? ${'x'.repeat(400)}`,
    );
    const scan = scanCrashLines(lines);
    assert.equal(scan.total, 25);
    assert.equal(scan.quoted.length, 10);
    assert.ok(scan.quoted[0]!.line.startsWith('web-1 | Worker (pid:0)'));
    assert.equal(scan.quoted[0]!.line.length, 300);
    assert.ok(scan.quoted[0]!.line.endsWith('…'));
  });

  test('a logs command that repeats its window reports each line once', () => {
    const seen = new Map<string, number>();
    assert.deepEqual(unseenLines(['a', 'b', 'b'], seen), ['a', 'b', 'b']);
    assert.deepEqual(unseenLines(['a', 'b', 'b', 'b', 'c'], seen), ['b', 'c']);
    assert.deepEqual(unseenLines(['b', 'c'], seen), []);
  });
});
