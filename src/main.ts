// The action's entry point: inputs → settings → gate run (or a stored report) → publish → exit.

import { readFileSync } from 'node:fs';
import * as core from '@actions/core';
import { readActionInputs } from './config/action-inputs.ts';
import { parseInputs } from './config/parse.ts';
import { parseRunContext } from './config/run-context.ts';
import type { Log } from './log.ts';
import { isLoadWorker, serveLoadWorker } from './load/processes.ts';
import { runGate } from './pipeline.ts';
import { exitCodeFor } from './report/gate-report.ts';
import { announceVerdict, publishToRunner, pullRequestFor } from './report/publish-action.ts';
import { readReportFile } from './report/report-file.ts';
import { plainLine } from './report/untrusted-text.ts';

// Messages quote the host (a lock holder's note, a command's stderr): one line each, or a newline
// in them would start a workflow command (`::error::…`) of the host's choosing.
const actionLog: Log = {
  info: (message) => core.info(plainLine(message)),
  warning: (message) => core.warning(plainLine(message)),
  debug: (message) => core.debug(plainLine(message)),
};

function readEventPayload(path: string | undefined): unknown {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const plan = parseInputs(readActionInputs());
  // Before anything can print the URL: a library's error message may quote it whole.
  if (plan.kind === 'measure') for (const secret of plan.settings.secrets) core.setSecret(secret);
  const payload = readEventPayload(process.env.GITHUB_EVENT_PATH);
  const context = parseRunContext(process.env, payload);
  if (plan.kind === 'post-report') {
    // The posting workflow's own `name` decides which comment is updated, not the stored report.
    const report = { ...(await readReportFile(plan.reportPath)), name: plan.report.name };
    const pullRequest = pullRequestFor(report, context, payload, true, actionLog);
    await publishToRunner(report, plan.report, context, pullRequest, actionLog);
    // The gating workflow already failed or passed the PR; posting its report is not a gate.
    announceVerdict(report, false);
    return;
  }
  const report = await runGate(plan.settings, context, actionLog);
  const pullRequest = pullRequestFor(report, context, payload, false, actionLog);
  await publishToRunner(report, plan.settings.report, context, pullRequest, actionLog);
  announceVerdict(report, exitCodeFor(report.verdict, plan.settings.gate) === 1);
}

// `load-processes` children are this bundle forked again: they serve one load burst, not the action.
if (isLoadWorker()) serveLoadWorker();
else main().catch(async (error: unknown) => {
  // Bad input or an unreadable report: nothing was measured, so the message is the report.
  const message = error instanceof Error ? error.message : String(error);
  core.setFailed(message);
  await core.summary.addRaw(`### 💥 loadgate did not run\n\n\`\`\`\n${message}\n\`\`\`\n`).write().catch(() => undefined);
});
