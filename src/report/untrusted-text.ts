// Text loadgate did not write, made inert wherever it is shown. Crash lines come from the PR's own
// application logs, the kernel string, CPU model and process names from the target host, a lock
// holder's note from whoever can write /tmp there, and with `comment-from` the whole report from
// a fork's workflow. In the gate's own comment such text must not ping (`@org/team`), draw
// (`<img>`), link (`[✅ all checks passed](…)`), reorder what a reader sees (bidi controls) or
// start a workflow command (`::error::`) in a log.
//
// The comment and the job summary are `Markdown`, a type only this module makes: from markup
// written in loadgate's source (`markdown`), and from any other text through the functions below.
// A renderer that puts a raw string into markdown does not type-check.
// Pure.

import { markdownTable } from 'markdown-table';

declare const inert: unique symbol;
/** Markdown that shows what it says: loadgate's own markup, and text made inert by this module. */
export type Markdown = string & { readonly [inert]: true };

/** Only this module turns a string into Markdown, and only once the string is inert. */
const inertMarkdown = (text: string) => text as Markdown;

/** Inline positions: a heading, a list item, a table cell. */
export const INLINE_MAX_CHARS = 300;
/** A log line or an annotation: long enough for a crash list, short of flooding the log. */
export const PLAIN_MAX_CHARS = 2_000;

const ZERO_WIDTH_SPACE = '\u200b';
// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above; a tab in a code block is spacing
const CONTROL_BUT_TAB = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;
// Format characters: bidi overrides and isolates (U+202E, U+2066…) show text in another order than
// it is read; zero-width characters hide text. None has a visible glyph of its own.
const INVISIBLE = /\p{Cf}+/gu;

/** One line, no control or invisible characters (a newline in a log starts a new workflow command), capped. */
export function plainLine(text: string, maxChars = PLAIN_MAX_CHARS): string {
  const line = String(text).replace(INVISIBLE, '').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return line.length <= maxChars ? line : `${line.slice(0, maxChars - 1)}…`;
}

/**
 * Text for a terminal, its lines kept: every other control character becomes a space, so text from
 * the host cannot recolour the terminal, move its cursor, link (OSC 8) or write its clipboard (OSC 52).
 */
export function terminalText(text: string): string {
  return String(text)
    .split('\n')
    .map((line) => line.replace(INVISIBLE, '').replace(CONTROL, ' '))
    .join('\n');
}

/**
 * Markup written in loadgate's source, with inert values put into it: the literal parts are
 * loadgate's own words, and a value must already be Markdown.
 */
export function markdown(literal: TemplateStringsArray, ...values: readonly Markdown[]): Markdown {
  return inertMarkdown(values.reduce<string>((text, value, index) => `${text}${value}${literal[index + 1]}`, literal[0] ?? ''));
}

/** The parts that are not empty, joined by `separator`. */
export function joinMarkdown(parts: readonly (Markdown | undefined)[], separator: Markdown): Markdown {
  return inertMarkdown(parts.filter((part) => part !== undefined && part !== '').join(separator));
}

/**
 * An inline code span: markdown, HTML and mentions inside it are shown, never acted on. Its
 * backtick fence is longer than any backtick run inside. In a `table`, the cell's pipes are
 * escaped as GitHub reads them even inside code.
 */
export function untrusted(text: string, options: { maxChars?: number } = {}): Markdown {
  const line = plainLine(text, options.maxChars ?? INLINE_MAX_CHARS);
  if (line === '') return markdown`(empty)`;
  const longestRun = Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : '';
  return inertMarkdown(`${fence}${pad}${line}${pad}${fence}`);
}

/**
 * A sentence of loadgate's words with quoted text in it (a verdict naming a crash line, a
 * diagnosis naming a process), shown as written: markdown and HTML characters are escaped,
 * mentions, issue references (`#12`, `GH-12`) and bare links broken with a zero-width space. Code
 * spans are left alone: nothing inside one acts. One line, capped.
 */
export function inertProse(text: string, options: { maxChars?: number } = {}): Markdown {
  return inertMarkdown(
    plainLine(text, options.maxChars ?? INLINE_MAX_CHARS)
      .replace(/[\\[\]<>*_~&]/g, '\\$&')
      .replace(/^([#+-])(?=\s|$)/, '\\$1')
      .replace(/^(\d+)([.)])(?=\s|$)/, '$1\\$2')
      .replace(/([@#])(?=[\p{L}\p{N}_])/gu, `$1${ZERO_WIDTH_SPACE}`)
      .replace(/\b(GH)-(?=\d)/gi, `$1${ZERO_WIDTH_SPACE}-`)
      .replace(/:\/\//g, `:${ZERO_WIDTH_SPACE}//`)
      .replace(/\bwww\./gi, (www) => `${www.slice(0, 3)}${ZERO_WIDTH_SPACE}.`),
  );
}

/**
 * A code block whose fence is longer than any backtick run inside, so quoted lines cannot end it;
 * its lines keep their spacing and lose control and invisible characters. A `mermaid` block is
 * drawn, not shown: only the latency chart, written from numbers, is one.
 */
export function fenced(quoted: readonly string[], language: 'text' | 'mermaid' = 'text'): Markdown {
  const lines = quoted.map((line) => line.replace(INVISIBLE, '').replace(CONTROL_BUT_TAB, ' '));
  const longestRun = Math.max(0, ...lines.flatMap((line) => (line.match(/`+/g) ?? []).map((run) => run.length)));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return inertMarkdown(`${fence}${language}\n${lines.join('\n')}\n${fence}`);
}

/** A table whose cells stay cells: a `|` would split one (even inside code), a newline end the row. */
export function table(rows: readonly (readonly Markdown[])[], align: readonly ('l' | 'r')[]): Markdown {
  const cells = rows.map((row) => row.map((cell) => cell.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')));
  return inertMarkdown(markdownTable(cells, { align }));
}

/** An HTML comment (hidden on GitHub) that the text inside cannot end. */
export function htmlComment(text: string): Markdown {
  return inertMarkdown(`<!-- ${text.replace(/--+>?|>/g, '_')} -->`);
}

const RUN_PATH = /^\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/actions\/runs\/\d+(?:\/attempts\/\d+)?$/;

/**
 * A report's workflow run link: a link only to an https run page on the GitHub server this run
 * talks to; anything else is shown as text, unlinked.
 */
export function runLinkMarkdown(runUrl: string, serverUrl: string, label: Markdown): Markdown {
  const url = parsedUrl(runUrl);
  const server = parsedUrl(serverUrl);
  const onServer = url !== undefined && server !== undefined && url.protocol === 'https:' && url.host === server.host;
  if (!onServer || !RUN_PATH.test(url.pathname) || url.search || url.hash) return markdown`${label} ${untrusted(runUrl)}`;
  return inertMarkdown(`[${label}](${url.href})`);
}

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
