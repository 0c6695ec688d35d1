// Plain-text helpers the renderers share. What makes text safe in markdown is in untrusted-text.ts.

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
