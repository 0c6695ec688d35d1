// A report generated from the report schema itself (REPORT_FIELDS): every field the schema knows
// is filled, so a field added to the schema is in the report without anyone listing it. Each
// string field gets the text `textFor` picks; lists get one item per value of the item's own
// choices (every metric, every status, both targets), so every row kind is rendered, unless
// `itemsAt` asks for more.

import { type Field, type FieldKind, REPORT_FIELDS } from '../../src/report/report-schema.ts';

export type TextField = Extract<FieldKind, { kind: 'text' }>;

export interface SchemaReport {
  /** The report as JSON data, before the schema read it. */
  data: unknown;
  /** Every string field filled, by path (`decision.comparisons[5].limit`), and what it holds. */
  texts: Map<string, string>;
}

/** By default a list gets as many items as the item's largest choice has values, and at least two. */
function choicesIn(item: Field<unknown>): number {
  const choices = item.kind === 'record' ? Object.values(item.shape) : [item];
  return Math.max(2, ...choices.map((field) => (field.kind === 'oneOf' ? field.values.length : 0)));
}

export function reportFromSchema(
  textFor: (field: TextField, path: string) => string,
  itemsAt: (path: string) => number | undefined = () => undefined,
): SchemaReport {
  const texts = new Map<string, string>();
  const fill = (field: Field<unknown>, path: string, index: number): unknown => {
    switch (field.kind) {
      case 'text': {
        const text = textFor(field, path);
        texts.set(path, text);
        return text;
      }
      case 'number':
        return Math.min(field.max, Math.max(field.min, index + 1));
      case 'flag':
        return index % 2 === 0;
      case 'oneOf':
        return field.values[index % field.values.length];
      case 'nullable':
        return fill(field.field, path, index);
      case 'list':
        return Array.from({ length: Math.min(field.maxItems, itemsAt(path) ?? choicesIn(field.item)) }, (_, i) =>
          fill(field.item, `${path}[${i}]`, i),
        );
      case 'record':
        return Object.fromEntries(
          Object.entries(field.shape).map(([key, member]) => [key, fill(member, path === '' ? key : `${path}.${key}`, index)]),
        );
    }
  };
  return { data: fill(REPORT_FIELDS, '', 0), texts };
}

/**
 * Texts that fields with a pattern accept, the first one an attacker's: a URL can still carry
 * markup, mentions and pipes.
 */
export const PATTERN_SAMPLES = [
  'https://evil.example/?[✅](https://evil.example/)<img/src=//evil.example/x>@org/team|GH-1',
  '+15%, ≤ 250 ms',
  'c0ffee00'.repeat(5),
  '2026-11-24T14:01:58.000Z',
  'bG9hZGdhdGU=',
];

/** The first of `candidates`, cut to the field's length, that its pattern accepts; throws naming the field when none does. */
export function textAccepted(field: TextField, path: string, candidates: readonly string[]): string {
  for (const candidate of candidates) {
    const text = candidate.slice(0, field.maxChars);
    if (!field.pattern || field.pattern.test.test(text)) return text;
  }
  throw new Error(`no sample text fits \`${path}\` (${field.pattern?.described}): add one to the candidates`);
}
