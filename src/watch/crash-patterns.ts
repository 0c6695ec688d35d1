// Crash lines in the output of the user's `logs-command`. Pure.

export interface CrashLine {
  /** What the line means, in words a reader of the report understands. */
  kind: string;
  line: string;
}

export interface CrashScan {
  /** The matching lines, at most the cap, oldest first, each shortened to a readable length. */
  quoted: CrashLine[];
  /** All matching lines, including those beyond the cap. */
  total: number;
}

// Order matters: a line is quoted once, under the first pattern that matches it.
const CRASH_PATTERNS: ReadonlyArray<{ kind: string; pattern: RegExp }> = [
  // gunicorn 21 and later; gunicorn 20.1 (Debian 12's package) names the signal by number.
  { kind: 'worker killed (SIGKILL, perhaps out of memory)', pattern: /was sent SIGKILL!?\s*Perhaps out of memory\?/i },
  { kind: 'worker killed (SIGKILL, perhaps out of memory)', pattern: /\bWorker with pid \d+ was terminated due to signal 9\b/ },
  { kind: 'worker timeout', pattern: /WORKER TIMEOUT/ },
  { kind: 'JavaScript heap out of memory', pattern: /JavaScript heap out of memory/i },
  { kind: 'MemoryError', pattern: /\bMemoryError\b/ },
  { kind: 'out of memory', pattern: /\bOut of memory\b/i },
  { kind: 'segmentation fault', pattern: /\bsegfault\b|Segmentation fault|SIGSEGV/i },
  { kind: 'killed', pattern: /\bKilled\b/ },
];

export const QUOTED_LINES_CAP = 10;
const QUOTED_LINE_CHARS = 300;

// Colour codes that `docker compose logs` and friends put around fields.
// biome-ignore lint/suspicious/noControlCharactersInRegex: an ANSI escape starts with ESC
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

export function crashKind(line: string): string | null {
  return CRASH_PATTERNS.find(({ pattern }) => pattern.test(line))?.kind ?? null;
}

export function scanCrashLines(lines: readonly string[], cap = QUOTED_LINES_CAP): CrashScan {
  const matches: CrashLine[] = [];
  for (const raw of lines) {
    const line = raw.replace(ANSI_ESCAPE, '').trim();
    const kind = crashKind(line);
    if (kind) matches.push({ kind, line: shorten(line) });
  }
  return { quoted: matches.slice(0, cap), total: matches.length };
}

/** Lines of `current` beyond as many copies of them as `seen` already held (logs commands repeat a window). */
export function unseenLines(current: readonly string[], seen: Map<string, number>): string[] {
  const counts = new Map<string, number>();
  const fresh: string[] = [];
  for (const line of current) {
    const count = (counts.get(line) ?? 0) + 1;
    counts.set(line, count);
    if (count > (seen.get(line) ?? 0)) fresh.push(line);
  }
  for (const [line, count] of counts) seen.set(line, Math.max(count, seen.get(line) ?? 0));
  return fresh;
}

function shorten(line: string): string {
  return line.length <= QUOTED_LINE_CHARS ? line : `${line.slice(0, QUOTED_LINE_CHARS - 1)}…`;
}
