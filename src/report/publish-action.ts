// Puts a report where people look when loadgate runs as an action: the JSON report file, the
// step outputs, the job summary, the PR comment, and the annotation carrying the verdict line.

import * as core from '@actions/core';
import type { RunContext } from '../config/run-context.ts';
import type { ReportSettings } from '../config/settings.ts';
import { createGitHubClient } from '../github/client.ts';
import type { Log } from '../log.ts';
import { renderCommentBody, renderResolvedCommentBody, renderSummary } from './comment-body.ts';
import type { GateReport } from './gate-report.ts';
import { headlineOf } from './headline.ts';
import { commentMarker, pullRequestOfEvent, upsertComment, type EventPullRequest } from './pull-request-comment.ts';
import { defaultReportPath, writeReportFile } from './report-file.ts';
import { signedPercent } from '../verdict/wording.ts';
import { memoryOutputs } from './memory-rows.ts';

/** GitHub caps a step's summary at 1 MiB; stay clear of it. */
const SUMMARY_CHAR_LIMIT = 900_000;

function changeOf(report: GateReport, metric: 'p50' | 'p95'): string {
  const change = report.decision?.comparisons.find((c) => c.metric === metric)?.change;
  return change === undefined || !Number.isFinite(change) ? '' : signedPercent(change).replace('%', '');
}

export function setOutputs(report: GateReport, reportPath: string, commentUrl: string): void {
  core.setOutput('verdict', report.verdict);
  core.setOutput('median-ms', report.figures ? report.figures.p50.toFixed(3) : '');
  core.setOutput('p95-ms', report.figures ? report.figures.p95.toFixed(3) : '');
  core.setOutput('median-change', changeOf(report, 'p50'));
  core.setOutput('p95-change', changeOf(report, 'p95'));
  core.setOutput('report', reportPath);
  core.setOutput('comment-url', commentUrl);
  for (const [name, value] of Object.entries(memoryOutputs(report))) core.setOutput(name, value);
}

async function postComment(
  report: GateReport,
  settings: ReportSettings,
  context: RunContext,
  pullRequest: EventPullRequest | undefined,
  log: Log,
): Promise<string> {
  if (settings.comment === 'never') return '';
  if (!pullRequest) {
    log.info(`No pull request in this ${context.eventName} run: no comment posted; the report is in the job summary.`);
    return '';
  }
  const [owner, repo] = context.repository?.split('/') ?? [];
  if (!owner || !repo || !settings.githubToken) {
    log.warning('No PR comment: `github-token` or GITHUB_REPOSITORY is missing.');
    return '';
  }
  const github = createGitHubClient({ token: settings.githubToken, apiUrl: context.apiUrl, log });
  const marker = commentMarker(report.name);
  const result = await upsertComment({
    github,
    owner,
    repo,
    issueNumber: pullRequest.number,
    name: report.name,
    body: renderCommentBody(report, { marker }),
    resolvedBody: renderResolvedCommentBody(report, { marker }),
    mode: settings.comment,
    isRegression: report.verdict === 'regression',
    readOnlyForkToken: pullRequest.readOnlyForkToken,
    log,
  });
  return result.url ?? '';
}

/**
 * The pull request a report belongs to. A measuring run takes it from its own event. A
 * `comment-from` run (on `workflow_run`) takes it from the report, which a fork wrote: it is
 * trusted only when the report's commit is the head commit of the workflow run that produced it.
 */
export function pullRequestFor(report: GateReport, context: RunContext, payload: unknown, fromStoredReport: boolean, log: Log): EventPullRequest | undefined {
  if (!fromStoredReport) return pullRequestOfEvent(context.eventName, payload);
  const headSha = (payload as { workflow_run?: { head_sha?: unknown } } | null)?.workflow_run?.head_sha;
  const number = report.context.pullRequestNumber;
  if (number === undefined) return undefined;
  if (typeof headSha === 'string' && headSha !== report.context.sha) {
    log.warning(`The report names commit ${report.context.sha}, but the workflow run that produced it built ${headSha}: not posted.`);
    return undefined;
  }
  return { number, readOnlyForkToken: false };
}

export async function publishToRunner(
  report: GateReport,
  settings: ReportSettings,
  context: RunContext,
  pullRequest: EventPullRequest | undefined,
  log: Log,
): Promise<void> {
  const reportPath = await writeReportFile(report, defaultReportPath(report.name, process.env.RUNNER_TEMP || undefined));
  let commentUrl = '';
  try {
    commentUrl = await postComment(report, settings, context, pullRequest, log);
  } catch (error) {
    log.warning(`The PR comment could not be posted: ${error instanceof Error ? error.message : String(error)}`);
  }
  setOutputs(report, reportPath, commentUrl);
  await core.summary.addRaw(renderSummary(report).slice(0, SUMMARY_CHAR_LIMIT)).write();
}

/** The verdict line as the step's annotation; a failing verdict fails the step (exit 1). */
export function announceVerdict(report: GateReport, fails: boolean): void {
  const line = headlineOf(report);
  if (fails) core.setFailed(line);
  else if (report.verdict === 'pass') core.notice(line);
  else core.warning(line);
}
