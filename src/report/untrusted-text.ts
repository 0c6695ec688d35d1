// Text loadgate did not write, made inert wherever it is shown. Crash lines come from the PR's own
// application logs, the kernel string, CPU model and process names from the target host, a lock
// holder's note from whoever can write /tmp there, and with `comment-from` the whole report from
// a fork's workflow. In the gate's own comment such text must not ping (`@org/team`), draw
// (`<img>`), link (`[✅ all checks passed](…)`) or start a workflow command (`::error::`) in a log.
// Pure.

/** Inline positions: a heading, a list item, a table cell. */
export const INLINE_MAX_CHARS = 300;
/** A log line or an annotation: long enough for a crash list, short of flooding the log. */
export const PLAIN_MAX_CHARS = 2_000;

const ZERO_WIDTH_SPACE = '\u200b';
// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line, no control characters (a newline in a log starts a new workflow command), capped. */
export function plainLine(text: string, maxChars = PLAIN_MAX_CHARS): string {
  const line = String(text).replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return line.length <= maxChars ? line : `${line.slice(0, maxChars - 1)}…`;
}

/**
 * Text for a terminal, its lines kept: every other control character becomes a space, so text from
 * the host cannot recolour the terminal, move its cursor, link (OSC 8) or write its clipboard (OSC 52).
 */
export function terminalText(text: string): string {
  return String(text)
    .split('\n')
    .map((line) => line.replace(CONTROL, ' '))
    .join('\n');
}

/**
 * An inline code span: markdown, HTML and mentions inside it are shown, never acted on. Its
 * backtick fence is longer than any backtick run inside. GitHub splits table cells at `|` even
 * inside code: a table caller escapes pipes as for any cell.
 */
export function untrusted(text: string, options: { maxChars?: number } = {}): string {
  const line = plainLine(text, options.maxChars ?? INLINE_MAX_CHARS);
  if (line === '') return '(empty)';
  const longestRun = Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}

/**
 * A sentence of loadgate's words with quoted text in it (a verdict naming a crash line, a
 * diagnosis naming a process), shown as written: markdown and HTML characters are escaped,
 * mentions, issue references and bare links broken with a zero-width space. Code spans are left
 * alone: nothing inside one acts. One line, capped.
 */
export function inertProse(text: string, options: { maxChars?: number } = {}): string {
  return plainLine(text, options.maxChars ?? INLINE_MAX_CHARS)
    .replace(/[\\[\]<>*_~&]/g, '\\$&')
    .replace(/^([#+-])(?=\s|$)/, '\\$1')
    .replace(/^(\d+)([.)])(?=\s|$)/, '$1\\$2')
    .replace(/([@#])(?=[\p{L}\p{N}_])/gu, `$1${ZERO_WIDTH_SPACE}`)
    .replace(/:\/\//g, `:${ZERO_WIDTH_SPACE}//`)
    .replace(/\bwww\./gi, (www) => `${www.slice(0, 3)}${ZERO_WIDTH_SPACE}.`);
}

const RUN_PATH = /^\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/actions\/runs\/\d+(?:\/attempts\/\d+)?$/;

/**
 * A report's workflow run link, as markdown: a link only to an https run page on the GitHub
 * server this run talks to; anything else is shown as text, unlinked.
 */
export function runLinkMarkdown(runUrl: string, serverUrl: string, label: string): string {
  const url = parsedUrl(runUrl);
  const server = parsedUrl(serverUrl);
  const onServer = url !== undefined && server !== undefined && url.protocol === 'https:' && url.host === server.host;
  if (!onServer || !RUN_PATH.test(url.pathname) || url.search || url.hash) return `${label} ${untrusted(runUrl)}`;
  return `[${label}](${url.href})`;
}

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
