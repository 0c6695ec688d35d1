// Puts a report where people look when loadgate runs as an action: the JSON report file, the
// step outputs, the job summary, the PR comment, and the annotation carrying the verdict line.

import * as core from '@actions/core';
import type { RunContext } from '../config/run-context.ts';
import type { ReportSettings } from '../config/settings.ts';
import { createGitHubClient, githubMessage, httpStatus } from '../github/client.ts';
import type { Log } from '../log.ts';
import { renderCommentBody, renderResolvedCommentBody, renderSummary } from './comment-body.ts';
import type { GateReport } from './gate-report.ts';
import { headlineOf } from './headline.ts';
import { commentMarker, upsertComment, type EventPullRequest } from './pull-request-comment.ts';
import { defaultReportPath, writeReportFile } from './report-file.ts';
import { plainLine } from './untrusted-text.ts';
import { signedPercent } from '../verdict/wording.ts';
import { messageOf } from '../errors.ts';
import { memoryOutputs } from './memory-rows.ts';

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
  core.setOutput('network-rtt-ms', report.network?.rttMs?.toFixed(3) ?? '');
  core.setOutput('service-median-ms', report.network?.serviceMedianMs?.toFixed(3) ?? '');
  core.setOutput('service-p95-ms', report.network?.serviceP95Ms?.toFixed(3) ?? '');
  const detectable = report.decision?.minDetectableChange;
  core.setOutput('min-detectable-change', detectable === undefined ? '' : (detectable * 100).toFixed(1));
  const speedChange = report.hostSpeed?.change;
  core.setOutput('host-speed-change', speedChange === undefined ? '' : signedPercent(speedChange).replace('%', ''));
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
    body: renderCommentBody(report, { marker, serverUrl: context.serverUrl }),
    resolvedBody: renderResolvedCommentBody(report, { marker, serverUrl: context.serverUrl }),
    mode: settings.comment,
    isRegression: report.verdict === 'regression',
    readOnlyForkToken: pullRequest.readOnlyForkToken,
    log,
  });
  return result.url ?? '';
}

/** A `workflow_run` run's trusted facts about the triggering run, checked for what matching needs. */
interface TriggeringRun {
  headSha: string;
  headRepository: { id: number; fullName: string };
}

/** SHA-1 today; SHA-256 repositories have 64-digit ids. */
const COMMIT_SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Why a stored report is not posted: a misconfigured workflow, or a report that is not this run's. */
const refused = (why: string): Error => new Error(`input \`comment-from\`: ${why}: nothing posted`);

function triggeringRunOf(context: RunContext): TriggeringRun {
  const run = context.workflowRun;
  if (context.eventName !== 'workflow_run' || !run) {
    throw refused(
      `this run's event is \`${context.eventName}\`; a stored report is posted only by a workflow ` +
        '`on: workflow_run`, whose event names the run that wrote it',
    );
  }
  if (!run.headSha || !COMMIT_SHA.test(run.headSha)) {
    throw refused(`the workflow_run event has no valid \`head_sha\` (${run.headSha ?? 'missing'}): the report's commit cannot be checked`);
  }
  const repository = run.headRepository;
  if (repository?.id === undefined) {
    throw refused('the workflow_run event has no `head_repository.id`, so its pull request cannot be told apart');
  }
  const fullName = repository.fullName ?? `repository ${repository.id}`;
  return { headSha: run.headSha, headRepository: { id: repository.id, fullName } };
}

/** The report's own claims must be the triggering run's: its PR head commit, and a PR number. */
function reportedPullRequest(report: GateReport, run: TriggeringRun): number {
  const { headSha, pullRequestNumber } = report.context;
  if (headSha === undefined) {
    throw refused('the report records no PR head commit (`context.headSha`): loadgate did not write it on a pull_request run');
  }
  if (headSha !== run.headSha) {
    throw refused(`the report names head commit ${headSha}, but the workflow run that produced it built ${run.headSha}`);
  }
  if (pullRequestNumber === undefined) throw refused('the report names no pull request (`context.pullRequestNumber`)');
  return pullRequestNumber;
}

interface ListedPullRequest {
  number: number;
  head: { sha: string; repo: { id: number } | null };
}

/** Open PRs whose head is the triggering run's commit from the triggering run's repository. */
function pullRequestsBuiltBy(run: TriggeringRun, pulls: readonly ListedPullRequest[]): number[] {
  const built = pulls.filter((pull) => pull.head.sha === run.headSha && pull.head.repo?.id === run.headRepository.id);
  return built.map((pull) => pull.number);
}

/**
 * The pull request a stored report (`comment-from`, on `workflow_run`) is posted on, found from
 * trusted data only: the event's head commit and head repository, matched against the open PRs
 * the API lists (a fork PR's `workflow_run.pull_requests` is empty). The report, written by a
 * fork, must name that same head commit and PR, or nothing is posted.
 */
export async function pullRequestOfWorkflowRun(
  report: GateReport,
  settings: ReportSettings,
  context: RunContext,
  log: Log,
): Promise<EventPullRequest | undefined> {
  if (settings.comment === 'never') return undefined;
  const run = triggeringRunOf(context);
  const number = reportedPullRequest(report, run);
  const [owner, repo] = context.repository?.split('/') ?? [];
  if (!owner || !repo || !settings.githubToken) {
    throw refused('`github-token` or GITHUB_REPOSITORY is missing, so no pull request can be looked up');
  }
  const github = createGitHubClient({ token: settings.githubToken, apiUrl: context.apiUrl, log });
  const built: number[] = [];
  try {
    await github.paginate(github.rest.pulls.list, { owner, repo, state: 'open', per_page: 100 }, (response, done) => {
      built.push(...pullRequestsBuiltBy(run, response.data));
      if (built.includes(number)) done();
      return [];
    });
  } catch (error) {
    const answer = `${httpStatus(error) ?? 'no answer'}: ${githubMessage(error)}`;
    throw refused(`listing the open pull requests of ${owner}/${repo} failed (${answer}); the job needs \`pull-requests: write\``);
  }
  const where = `commit ${run.headSha} of ${run.headRepository.fullName}`;
  if (built.includes(number)) return { number, readOnlyForkToken: false };
  if (built.length === 0) {
    log.warning(`No open pull request has ${where} as its head (closed, or pushed to since): the report for PR #${number} is not posted.`);
    return undefined;
  }
  throw refused(`the report names PR #${number}, but ${where} is the head of ${built.map((n) => `#${n}`).join(', ')}`);
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
    log.warning(`The PR comment could not be posted: ${messageOf(error)}`);
  }
  setOutputs(report, reportPath, commentUrl);
  // Outside a runner (GitHub's local runner, a bare `node dist/index.js`) there is no summary file: not a failure.
  // renderSummary fits the summary under GitHub's cap itself, keeping its <details> closed.
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderSummary(report, { serverUrl: context.serverUrl })).write();
  else log.debug('GITHUB_STEP_SUMMARY is not set: no job summary written.');
}

/** The verdict line as the step's annotation; a failing verdict fails the step (exit 1). */
export function announceVerdict(report: GateReport, { failStep }: { failStep: boolean }): void {
  // The headline can quote crash lines: one line, capped, like every annotation.
  const line = plainLine(headlineOf(report));
  if (failStep) core.setFailed(line);
  else if (report.verdict === 'pass') core.notice(line);
  else core.warning(line);
}
