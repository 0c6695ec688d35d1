// Runs the committed bundle the way the GitHub runner does: `node dist/index.js` under Node 24
// with INPUT_* variables, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files and an event payload file.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BUNDLE = new URL('../../dist/index.js', import.meta.url).pathname;

/** Load small enough for many bundle runs per test file, long enough for real figures. */
export const SHORT_RUN = { connections: '4', duration: '1s', bursts: '3', warmup: '500ms' } as const;

export interface BundleRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The JSON report the `report` output points at. */
  report?: Record<string, unknown>;
}

export interface BundleOptions {
  inputs: Record<string, string>;
  eventName: string;
  event: unknown;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** The Node 24 binary `npm test` installs; the action's `runs.using` is node24. */
export function node24(): string {
  const binary = process.env.LOADGATE_NODE24;
  if (!binary) throw new Error('LOADGATE_NODE24 is not set: run the tests with `npm test`, which installs Node 24');
  return binary;
}

/** Parses the runner's `name<<DELIMITER … DELIMITER` output file format. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n?\2$/gm;
  for (const match of text.matchAll(pattern)) outputs[match[1]] = match[3];
  return outputs;
}

export async function runBundle(options: BundleOptions): Promise<BundleRun> {
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-runner-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  const eventFile = join(dir, 'event.json');
  await Promise.all([writeFile(outputFile, ''), writeFile(summaryFile, ''), writeFile(eventFile, JSON.stringify(options.event))]);
  const inputs = Object.fromEntries(Object.entries(options.inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.eventName,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'octo-org/shop',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0',
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'http://127.0.0.1:9/',
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
    ...inputs,
    ...options.env,
  };
  try {
    const child = spawn(node24(), [BUNDLE], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const outputs = parseOutputFile(await readFile(outputFile, 'utf8'));
    const report = outputs.report ? JSON.parse(await readFile(outputs.report, 'utf8')) : undefined;
    return { code, stdout, stderr, outputs, summary: await readFile(summaryFile, 'utf8'), report };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
