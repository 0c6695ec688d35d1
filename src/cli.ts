// `loadgate --url …`: the same pipeline as the action, for a terminal. Progress goes to stderr,
// the report to stdout, and the exit code is the action's.

import { parseCliArgs } from './config/cli-args.ts';
import { INPUT_DEFAULTS, INPUT_NAMES } from './config/input-defaults.ts';
import { parseInputs } from './config/parse.ts';
import { parseRunContext } from './config/run-context.ts';
import type { Log } from './log.ts';
import { runGate } from './pipeline.ts';
import { renderTerminal } from './report/comment-body.ts';
import { exitCodeFor } from './report/gate-report.ts';
import { defaultReportPath, readReportFile, writeReportFile } from './report/report-file.ts';
import { plainLine, terminalText } from './report/untrusted-text.ts';
import { messageOf } from './errors.ts';

// Messages and the report quote the host (a logs-command line, the kernel string, a command's
// stderr): an escape sequence in them would reach the terminal. As the action's log, one line each.
const stderrLog: Log = {
  info: (message) => process.stderr.write(`${plainLine(message)}\n`),
  warning: (message) => process.stderr.write(`warning: ${plainLine(message)}\n`),
  debug: (message) => {
    if (process.env.LOADGATE_DEBUG) process.stderr.write(`debug: ${plainLine(message)}\n`);
  },
};

const USAGE = `Usage: loadgate --url URL [--name value …] [--report-path FILE]

Runs the loadgate pipeline from a terminal: warmup, bursts, comparison with the baseline,
the report table, and exit code 1 on regression or error. The flags are the action's inputs:
${INPUT_NAMES.map((name) => `  --${name}${INPUT_DEFAULTS[name] ? ` (default ${INPUT_DEFAULTS[name]})` : ''}`).join('\n')}
`;

export async function runCli(argv: readonly string[]): Promise<number> {
  const request = parseCliArgs(argv);
  if (request.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const plan = parseInputs(request.inputs);
  for (const warning of plan.warnings) stderrLog.warning(warning);
  if (plan.kind === 'post-report') {
    process.stdout.write(`${terminalText(renderTerminal(await readReportFile(plan.reportPath)))}\n`);
    return 0;
  }
  const report = await runGate(plan.settings, parseRunContext(process.env, {}), stderrLog);
  const path = await writeReportFile(report, request.reportPath ?? defaultReportPath(report.name));
  process.stdout.write(terminalText(`${renderTerminal(report)}\nreport: ${path}\n`));
  return exitCodeFor(report.verdict, plan.settings.gate);
}

export function main(argv: readonly string[]): void {
  runCli(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`loadgate: ${plainLine(messageOf(error))}\n`);
      process.exitCode = 1;
    },
  );
}
