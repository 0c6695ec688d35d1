// Where this run happens: the GitHub event, ref, commit and pull request, read once from the
// runner's environment and event payload. Locally (CLI, demo) most of it is absent.

export interface RunContext {
  eventName: string;
  ref: string;
  sha: string;
  /** `owner/repo`, when running on GitHub. */
  repository?: string;
  defaultBranch?: string;
  pullRequestNumber?: number;
  runId?: string;
  runUrl?: string;
  /** `GITHUB_SERVER_URL`: the only host a report's run link may point at. */
  serverUrl?: string;
  apiUrl: string;
}

type Env = Record<string, string | undefined>;

interface EventPayload {
  repository?: { default_branch?: string };
  pull_request?: { number?: number };
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
    pullRequestNumber: isPullRequest ? event.pull_request?.number : undefined,
    runId,
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : undefined,
    serverUrl,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
  };
}

/** `update-baseline: auto` writes only on a push to the repository's default branch. */
export function isDefaultBranchPush(context: RunContext): boolean {
  return (
    context.eventName === 'push' &&
    context.defaultBranch !== undefined &&
    context.ref === `refs/heads/${context.defaultBranch}`
  );
}
