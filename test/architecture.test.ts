// The rules of ARCHITECTURE.md, checked against the source: every import between folders of src/
// is one the table allows (type-only imports and re-exports count), the table is a DAG, and a
// module that calls itself pure imports nothing that does I/O.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(REPO, 'src');

/** `report/` for a file in a folder of src/, the file name for a file directly in src/. */
function unitOf(pathInSrc: string): string {
  const [first, ...rest] = pathInSrc.split('/');
  return rest.length > 0 ? `${first}/` : first;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(entry.name) ? [path] : [];
  });
}

interface Import {
  from: string;
  to: string;
  specifier: string;
}

/** Every relative import, `import type`, `export … from` and dynamic import of the file, as TypeScript reads them. */
function importsOf(path: string): Import[] {
  return importsIn(readFileSync(path, 'utf8'), relative(SRC, path));
}

function importsIn(text: string, from: string): Import[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.filter((file) => file.fileName.startsWith('.'))
    .map((file) => ({ from, to: normalize(join(dirname(from), file.fileName)), specifier: file.fileName }));
}

/** The table in ARCHITECTURE.md: unit → the units it may import. */
function allowedImports(): Map<string, Set<string>> {
  const text = readFileSync(join(REPO, 'ARCHITECTURE.md'), 'utf8');
  const section = text.slice(text.indexOf('## Folders and what each may import'));
  const rows = section.split('\n').filter((line) => /^\| `[^`]+` \|/.test(line));
  assert.ok(rows.length > 5, 'ARCHITECTURE.md has the allowed-imports table');
  return new Map(
    rows.map((row) => {
      const cells = row.split('|').slice(1, -1);
      const unit = cells[0].trim().replaceAll('`', '');
      const allowed = [...cells.at(-1)!.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
      return [unit, new Set(allowed)];
    }),
  );
}

/** One cycle of the graph as a path `a → b → a`, or undefined when it has none. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const files = sourceFiles(SRC);
const crossings = files.flatMap(importsOf).filter((edge) => unitOf(edge.from) !== unitOf(edge.to));

describe('architecture (ARCHITECTURE.md)', { timeout: 30_000 }, () => {
  test('the cycle finder finds a cycle and accepts a DAG', () => {
    const graph = (edges: [string, string][]) => {
      const map = new Map<string, Set<string>>();
      for (const [a, b] of edges) map.set(a, (map.get(a) ?? new Set()).add(b));
      return map;
    };
    assert.deepEqual(
      findCycle(
        graph([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'b'],
        ]),
      ),
      ['b', 'c', 'b'],
    );
    assert.equal(
      findCycle(
        graph([
          ['a', 'b'],
          ['a', 'c'],
          ['b', 'c'],
        ]),
      ),
      undefined,
    );
  });

  test('the import scan sees `import type`, `export … from`, bare and dynamic imports', () => {
    const text = [
      "import type { A } from '../target/session.ts';",
      "import {\n  b,\n  type C,\n} from './b.ts';",
      "export { d } from '../verdict/d.ts';",
      "export type * from '../watch/e.ts';",
      "import '../load/f.ts';",
      "const g = await import('../baseline/g.ts');",
      "import { h } from 'node:fs';",
    ].join('\n');
    assert.deepEqual(
      importsIn(text, 'report/x.ts').map((edge) => edge.to),
      ['target/session.ts', 'report/b.ts', 'verdict/d.ts', 'watch/e.ts', 'load/f.ts', 'baseline/g.ts'],
    );
  });

  test('every unit of src/ has a row in the table, and the table is a DAG', () => {
    const allowed = allowedImports();
    const units = new Set(files.map((path) => unitOf(relative(SRC, path))));
    const missing = [...units].filter((unit) => !allowed.has(unit));
    assert.deepEqual(missing, [], 'add a row to the table in ARCHITECTURE.md for each');
    const cycle = findCycle(allowed);
    assert.equal(cycle, undefined, `the table allows a cycle: ${cycle?.join(' → ')}`);
  });

  test('every import between units is one the table allows', () => {
    const allowed = allowedImports();
    const forbidden = crossings
      .filter((edge) => !allowed.get(unitOf(edge.from))?.has(unitOf(edge.to)))
      .map((edge) => `src/${edge.from} imports '${edge.specifier}' (${unitOf(edge.from)} → ${unitOf(edge.to)})`);
    assert.deepEqual(forbidden, [], 'not allowed by ARCHITECTURE.md');
  });

  test('no import cycles between the folders of src/', () => {
    const graph = new Map<string, Set<string>>();
    for (const edge of crossings) {
      graph.set(unitOf(edge.from), (graph.get(unitOf(edge.from)) ?? new Set()).add(unitOf(edge.to)));
    }
    const cycle = findCycle(graph);
    assert.equal(cycle, undefined, `import cycle: ${cycle?.join(' → ')}`);
  });

  test('a module whose header says "Pure" imports nothing that does I/O', () => {
    const io = /^(node:)?(fs|fs\/promises|net|http|https|child_process|dgram|tls)$|^@actions\/|^autocannon$|^node-ssh$|^ssh2$/;
    const impure = files.flatMap((path) => {
      const text = readFileSync(path, 'utf8');
      const header = text.slice(0, text.search(/^(import|export)\b/m));
      if (!/\bPure\b/.test(header)) return [];
      return ts
        .preProcessFile(text, true, true)
        .importedFiles.filter((file) => io.test(file.fileName))
        .map((file) => `src/${relative(SRC, path)} imports ${file.fileName}`);
    });
    assert.deepEqual(impure, []);
  });
});
