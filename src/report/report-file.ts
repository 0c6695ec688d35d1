// The JSON report on disk: written by every measuring run (the `report` output), read back by
// `comment-from` in the fork-PR pattern's second workflow.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPORT_SCHEMA, REPORT_VERSION, type GateReport } from './gate-report.ts';

export function defaultReportPath(name: string, directory = tmpdir()): string {
  return join(directory, 'loadgate', `${name}-report.json`);
}

export async function writeReportFile(report: GateReport, path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 1)}\n`);
  return path;
}

export async function readReportFile(path: string): Promise<GateReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`input \`comment-from\`: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); expected the path of a report JSON written by loadgate (its \`report\` output)`);
  }
  let data: Partial<GateReport> | undefined;
  try {
    data = JSON.parse(text) as Partial<GateReport>;
  } catch {
    data = undefined;
  }
  if (data?.schema !== REPORT_SCHEMA || data.version !== REPORT_VERSION || typeof data.verdict !== 'string') {
    throw new Error(`input \`comment-from\`: ${path} is not a loadgate report (schema ${REPORT_SCHEMA} version ${REPORT_VERSION})`);
  }
  return data as GateReport;
}
