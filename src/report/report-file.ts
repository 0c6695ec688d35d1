// The JSON report on disk: written by every measuring run (the `report` output), read back by
// `comment-from` in the fork-PR pattern's second workflow.

import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPORT_SCHEMA, REPORT_VERSION, type GateReport } from './gate-report.ts';
import { parseReport, ReportSchemaError } from './report-schema.ts';

export function defaultReportPath(name: string, directory = tmpdir()): string {
  return join(directory, 'loadgate', `${name}-report.json`);
}

export async function writeReportFile(report: GateReport, path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 1)}\n`);
  return path;
}

/** A real report is far smaller (400 bursts with wide histograms: about 5 MB); this bounds the reading. */
export const REPORT_FILE_MAX_BYTES = 8 * 1024 * 1024;

/** Reads and checks a report file that may come from an untrusted run (a fork's artifact). */
export async function readReportFile(path: string): Promise<GateReport> {
  const refused = (why: string) =>
    new Error(`input \`comment-from\`: ${path} is not a loadgate report (${REPORT_SCHEMA} version ${REPORT_VERSION}) to post: ${why}`);
  const cannotRead = (error: unknown) =>
    new Error(
      `input \`comment-from\`: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); ` +
        'expected the path of a report JSON written by loadgate (its `report` output)',
    );
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw cannotRead(error);
  }
  if (size > REPORT_FILE_MAX_BYTES) throw refused(`it is ${size} bytes; expected at most ${REPORT_FILE_MAX_BYTES}`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw cannotRead(error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw refused(`it is not JSON (${(error as Error).message})`);
  }
  try {
    return parseReport(data);
  } catch (error) {
    if (error instanceof ReportSchemaError) throw refused(`\n${error.message}`);
    throw error;
  }
}
