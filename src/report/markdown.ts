// Markdown for text we did not write (error messages, log lines, URLs, input values): each helper
// keeps such text inert, so it can neither end the block it sits in nor split a table.

/** A code block whose fence is longer than any backtick run inside, so quoted lines cannot end it. */
export function fenced(lines: readonly string[]): string {
  const longestRun = Math.max(0, ...lines.flatMap((line) => (line.match(/`+/g) ?? []).map((run) => run.length)));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}text\n${lines.join('\n')}\n${fence}`;
}

/** A table cell that holds user text: a `|` would split the cell, a newline the row. */
export function tableCell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
