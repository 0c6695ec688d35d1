// Where this run happens: the GitHub event, ref, commit and pull request, read once from the
// runner's environment and event payload. Locally (CLI, demo) most of it is absent.

export interface RunContext {
  eventName: string;
  ref: string;
  /** GITHUB_SHA: on a pull request, GitHub's test merge commit (refs/pull/N/merge), not the PR's. */
  sha: string;
  /** On a pull request, the PR's own head commit (`pull_request.head.sha`). */
  headSha?: string;
  /** `owner/repo`, when running on GitHub. */
  repository?: string;
  defaultBranch?: string;
  pullRequestNumber?: number;
  runId?: string;
  runUrl?: string;
  /** `GITHUB_SERVER_URL`: the only host a report's run link may point at. */
  serverUrl?: string;
  apiUrl: string;
  /** On `workflow_run`: the run that triggered this one, as GitHub describes it (trusted). */
  workflowRun?: WorkflowRunHead;
}

/** What a `workflow_run` event says about the triggering run's commit; absent fields stay undefined. */
export interface WorkflowRunHead {
  headSha?: string;
  /** The repository the commit came from: the fork, for a fork's pull request. */
  headRepository?: { id?: number; fullName?: string };
}

type Env = Record<string, string | undefined>;

interface EventPayload {
  repository?: { default_branch?: string };
  pull_request?: { number?: number; head?: { sha?: unknown } };
  workflow_run?: { head_sha?: unknown; head_repository?: { id?: unknown; full_name?: unknown } | null } | null;
}

const stringOrUndefined = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const integerOrUndefined = (value: unknown): number | undefined => (Number.isSafeInteger(value) ? (value as number) : undefined);

function workflowRunOf(event: EventPayload): WorkflowRunHead | undefined {
  const run = event.workflow_run;
  if (typeof run !== 'object' || run === null) return undefined;
  const repository = typeof run.head_repository === 'object' && run.head_repository !== null ? run.head_repository : undefined;
  return {
    headSha: stringOrUndefined(run.head_sha),
    headRepository: repository && { id: integerOrUndefined(repository.id), fullName: stringOrUndefined(repository.full_name) },
  };
}

export function parseRunContext(env: Env, payload: unknown): RunContext {
  const event = (typeof payload === 'object' && payload !== null ? payload : {}) as EventPayload;
  const eventName = env.GITHUB_EVENT_NAME ?? 'local';
  const repository = env.GITHUB_REPOSITORY || undefined;
  const serverUrl = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const runId = env.GITHUB_RUN_ID || undefined;
  const isPullRequest = eventName === 'pull_request' || eventName === 'pull_request_target';
  return {
    eventName,
    ref: env.GITHUB_REF ?? '',
    sha: env.GITHUB_SHA ?? '',
    repository,
    defaultBranch: event.repository?.default_branch,
    headSha: isPullRequest ? stringOrUndefined(event.pull_request?.head?.sha) : undefined,
    pullRequestNumber: isPullRequest ? event.pull_request?.number : undefined,
    runId,
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : undefined,
    serverUrl,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    workflowRun: eventName === 'workflow_run' ? workflowRunOf(event) : undefined,
  };
}

/** `update-baseline: auto` writes only on a push to the repository's default branch. */
export function isDefaultBranchPush(context: RunContext): boolean {
  return context.eventName === 'push' && context.defaultBranch !== undefined && context.ref === `refs/heads/${context.defaultBranch}`;
}
