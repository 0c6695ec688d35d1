// The baseline document as a file in the workspace. Written whole and atomically (temp file in
// the same directory, then rename), so a crash mid-write never leaves a truncated history.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { appendRun, emptyDocument, parseDocument, serializeDocument, type BaselineDocument } from './history.ts';
import type { BaselineStore } from './store.ts';

export function createFileStore(path: string): BaselineStore {
  const absolute = resolve(path);

  async function load(): Promise<BaselineDocument> {
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyDocument();
      throw baselinePathError(path, error);
    }
    return parseDocument(text, `baseline file ${path}`);
  }

  return {
    location: `file ${path}`,
    async read(key) {
      return (await load()).histories[key] ?? [];
    },
    async append(key, run) {
      const updated = appendRun(await load(), key, run);
      await mkdir(dirname(absolute), { recursive: true });
      const temporary = `${absolute}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temporary, serializeDocument(updated));
      await rename(temporary, absolute);
    },
  };
}

/** Names the input and the form it takes: a bare `EISDIR` tells the user nothing. */
function baselinePathError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const problem = code === 'EISDIR' ? 'is a directory' : `cannot be read (${error instanceof Error ? error.message : String(error)})`;
  return new Error(`input \`baseline-path\`: ${path} ${problem}; expected the path of a file, such as \`.loadgate/baseline.json\``);
}
