// The action: inputs → settings → gate run (or a stored report) → publish. `run()` is what the
// bundle's entry (src/index.ts) and GitHub's local runner (`npx @github/local-action`) call;
// importing this module does nothing.

import { readFileSync } from 'node:fs';
import * as core from '@actions/core';
import { readActionInputs } from './config/action-inputs.ts';
import { parseInputs } from './config/parse.ts';
import { parseRunContext } from './config/run-context.ts';
import { flatPhases, type Log } from './log.ts';
import { runGate } from './pipeline.ts';
import { exitCodeFor } from './report/gate-report.ts';
import { announceVerdict, publishToRunner, pullRequestOfWorkflowRun } from './report/publish-action.ts';
import { pullRequestOfEvent } from './report/pull-request-comment.ts';
import { readReportFile } from './report/report-file.ts';
import { messageOf } from './errors.ts';
import { fenced, plainLine } from './report/untrusted-text.ts';

// Messages quote the host (a lock holder's note, a command's stderr): one line each, or a newline
// in them would start a workflow command (`::error::…`) of the host's choosing.
// Each phase is a collapsible group (`::group::`); the runner's log has no live line, the burst
// lines say where a run stands.
const actionLog: Log = {
  info: (message) => core.info(plainLine(message)),
  warning: (message) => core.warning(plainLine(message)),
  debug: (message) => core.debug(plainLine(message)),
  phase: flatPhases((name) => core.startGroup(plainLine(name)), core.endGroup),
  progress() {},
};

function readEventPayload(path: string | undefined): unknown {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

async function gateOrPost(): Promise<void> {
  const plan = parseInputs(readActionInputs());
  // Before anything can print the URL: a library's error message may quote it whole.
  if (plan.kind === 'measure') for (const secret of plan.settings.secrets) core.setSecret(secret);
  for (const warning of plan.warnings) core.warning(`loadgate: ${warning}`);
  const payload = readEventPayload(process.env.GITHUB_EVENT_PATH);
  const context = parseRunContext(process.env, payload);
  if (plan.kind === 'post-report') {
    // The posting workflow's own `name` decides which comment is updated, not the stored report.
    const report = { ...(await readReportFile(plan.reportPath)), name: plan.report.name };
    const pullRequest = await pullRequestOfWorkflowRun(report, plan.report, context, actionLog);
    await actionLog.phase('publishing', () => publishToRunner(report, plan.report, context, pullRequest, actionLog));
    // The gating workflow already failed or passed the PR; posting its report is not a gate.
    announceVerdict(report, { failStep: false });
    return;
  }
  const report = await runGate(plan.settings, context, actionLog);
  const pullRequest = pullRequestOfEvent(context.eventName, payload);
  await actionLog.phase('publishing', () => publishToRunner(report, plan.settings.report, context, pullRequest, actionLog));
  announceVerdict(report, { failStep: exitCodeFor(report.verdict, plan.settings.gate) === 1 });
}

/** Runs the action once; never rejects: a failure fails the step with its message. */
export async function run(): Promise<void> {
  try {
    await gateOrPost();
  } catch (error: unknown) {
    // Bad input or an unreadable report: nothing was measured, so the message is the report.
    const message = messageOf(error);
    core.setFailed(message);
    if (!process.env.GITHUB_STEP_SUMMARY) return;
    await core.summary
      .addRaw(`### 💥 loadgate did not run\n\n${fenced(message.split('\n'))}\n`)
      .write()
      .catch(() => undefined);
  }
}
