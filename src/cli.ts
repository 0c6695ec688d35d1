// `loadgate --url …`: the same pipeline as the action, for a terminal. Progress goes to stderr,
// the report to stdout, and the exit code is the action's.

import { parseCliArgs } from './config/cli-args.ts';
import { INPUT_DEFAULTS, INPUT_NAMES } from './config/input-defaults.ts';
import { parseInputs } from './config/parse.ts';
import { parseRunContext } from './config/run-context.ts';
import { flatPhases, type Log } from './log.ts';
import { runGate } from './pipeline.ts';
import { renderTerminal } from './report/comment-body.ts';
import { exitCodeFor } from './report/gate-report.ts';
import { defaultReportPath, readReportFile, writeReportFile } from './report/report-file.ts';
import { plainLine, terminalText } from './report/untrusted-text.ts';
import { messageOf } from './errors.ts';

// Messages and the report quote the host (a logs-command line, the kernel string, a command's
// stderr): an escape sequence in them would reach the terminal. As the action's log, one line each.
const prefixes = { info: '', warning: 'warning: ', debug: 'debug: ' } as const;

/**
 * Plain lines on stderr; on a terminal, beneath them one live line (phase, step, time left) that is
 * redrawn each second. Our own control codes only: carriage return and erase-line around our line.
 */
function stderrLog(stream: NodeJS.WriteStream = process.stderr): Log {
  const live = Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
  let phase: string | undefined;
  let step: { text?: string; endsAt: number } | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const liveLine = () => {
    if (!phase) return '';
    const left = step ? `, about ${Math.max(0, Math.ceil((step.endsAt - Date.now()) / 1000))} s left` : '';
    // Wider than the terminal, the line would wrap, and a carriage return would redraw only its last row.
    return plainLine(`loadgate ${phase}${step?.text ? `: ${step.text}` : ''}${left}`, (stream.columns || 80) - 1);
  };
  const redraw = () => stream.write(`\r\u001b[2K${liveLine()}`);
  const print = (level: keyof typeof prefixes, message: string) => {
    if (level === 'debug' && !process.env.LOADGATE_DEBUG) return;
    const line = `${prefixes[level]}${plainLine(message)}\n`;
    if (!live || !phase) return void stream.write(line);
    stream.write(`\r\u001b[2K${line}`);
    redraw();
  };
  return {
    info: (message) => print('info', message),
    warning: (message) => print('warning', message),
    debug: (message) => print('debug', message),
    phase: flatPhases(
      (name) => {
        if (!live) return;
        phase = name;
        redraw();
        ticker = setInterval(redraw, 1000).unref();
      },
      () => {
        if (!live) return;
        clearInterval(ticker);
        phase = step = undefined;
        stream.write('\r\u001b[2K');
      },
    ),
    progress(leftMs, text) {
      if (!live || !phase) return;
      step = { text, endsAt: Date.now() + leftMs };
      redraw();
    },
  };
}

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
  const log = stderrLog();
  for (const warning of plan.warnings) log.warning(warning);
  if (plan.kind === 'post-report') {
    process.stdout.write(`${terminalText(renderTerminal(await readReportFile(plan.reportPath)))}\n`);
    return 0;
  }
  const report = await runGate(plan.settings, parseRunContext(process.env, {}), log);
  const path = await log.phase('publishing', () => writeReportFile(report, request.reportPath ?? defaultReportPath(report.name)));
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
