// The gate's sticky PR comment: found by a hidden marker among the comments written by the
// token's own identity, updated in place, created only when the comment mode asks for it. A
// token that may not comment (fork PR, missing permission) yields a warning, never an error:
// the verdict must not depend on whether the comment could be posted.

import type { CommentMode } from '../config/settings.ts';
import { githubMessage, httpStatus, type GitHubClient } from '../github/client.ts';
import type { Log } from '../log.ts';
import { COMMENT_CHAR_LIMIT } from './github-limits.ts';
import { htmlComment, type Markdown } from './untrusted-text.ts';

const TRUNCATION_NOTE = `\n\n> ⚠️ This comment was cut at GitHub's ${COMMENT_CHAR_LIMIT.toLocaleString('en-US')}-character limit. The full report is in the run's job summary.\n`;

export type CommentAction = 'created' | 'updated' | 'resolved' | 'skipped';

export interface CommentResult {
  action: CommentAction;
  /** The comment's html_url when it was created or updated. */
  url?: string;
  /** Why the comment could not be posted, worded for the user (a 403). */
  warning?: string;
}

export interface UpsertCommentOptions {
  github: GitHubClient;
  owner: string;
  repo: string;
  issueNumber: number;
  /** The gate's name (`name` input): one comment per name. */
  name: string;
  /** Starts with `commentMarker(name)`, which is how the next run finds it. */
  body: string;
  /** With `on-regression`, what an existing comment becomes once the PR no longer regresses. */
  resolvedBody?: string;
  mode: CommentMode;
  isRegression: boolean;
  /** True on a `pull_request` run from a fork: the token is read-only whatever `permissions` says. */
  readOnlyForkToken?: boolean;
  log: Log;
}

export interface EventPullRequest {
  number: number;
  /** A `pull_request` event from a fork gets a read-only token; `pull_request_target` does not. */
  readOnlyForkToken: boolean;
}

/** The PR of a `pull_request` / `pull_request_target` event; undefined for any other event. */
export function pullRequestOfEvent(eventName: string, payload: unknown): EventPullRequest | undefined {
  if (eventName !== 'pull_request' && eventName !== 'pull_request_target') return undefined;
  const pullRequest = (
    payload as {
      pull_request?: { number?: unknown; head?: { repo?: { full_name?: unknown } | null }; base?: { repo?: { full_name?: unknown } } };
    } | null
  )?.pull_request;
  if (!Number.isInteger(pullRequest?.number)) return undefined;
  const head = pullRequest?.head?.repo?.full_name;
  const base = pullRequest?.base?.repo?.full_name;
  // A deleted fork shows as `head.repo: null`: still a fork.
  const fromFork = head !== base;
  return { number: pullRequest!.number as number, readOnlyForkToken: eventName === 'pull_request' && fromFork };
}

/** The hidden line that marks this gate's comment; `-->` in a name cannot end the HTML comment early. */
export function commentMarker(name: string): Markdown {
  return htmlComment(`loadgate:${name}`);
}

/** Cuts a body over GitHub's limit, closing an open code fence or `<details>` so the note shows. */
export function fitCommentBody(body: string, limit = COMMENT_CHAR_LIMIT): string {
  if (body.length <= limit) return body;
  const closersRoom = 200;
  let cut = body.slice(0, Math.max(0, limit - TRUNCATION_NOTE.length - closersRoom));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1); // never split an emoji's surrogate pair
  const openFence = (cut.match(/^\s*```/gm) ?? []).length % 2 === 1 ? '\n```' : '';
  const openDetails = (cut.match(/<details\b/g) ?? []).length - (cut.match(/<\/details>/g) ?? []).length;
  const closers = openFence + '\n</details>'.repeat(Math.min(Math.max(openDetails, 0), 10));
  return cut + closers + TRUNCATION_NOTE;
}

const ownLogins = new WeakMap<GitHubClient, Promise<string>>();

/**
 * The login the token acts as. `GET /user` answers 403 for the job's installation token, so
 * GraphQL's `viewer` (which does answer, with `github-actions[bot]`) is the fallback.
 */
function ownLogin(github: GitHubClient): Promise<string> {
  let login = ownLogins.get(github);
  if (!login) {
    login = github.rest.users.getAuthenticated().then(
      (response) => response.data.login,
      async (error: unknown) => {
        if (httpStatus(error) !== 403) throw error;
        const answer = await github.graphql<{ viewer: { login: string } }>('query { viewer { login } }');
        return answer.viewer.login;
      },
    );
    ownLogins.set(github, login);
    login.catch(() => ownLogins.delete(github)); // a failed lookup is retried by the next call
  }
  return login;
}

function forbiddenWarning(error: unknown, readOnlyForkToken: boolean | undefined): string {
  const message = githubMessage(error);
  const opening = `The loadgate PR comment was not posted: GitHub answered 403 (${message}).`;
  const unaffected = 'The verdict, the job summary and the exit code are unaffected.';
  if (/rate limit/i.test(message))
    return `${opening} GitHub kept rate-limiting the token after retries; the next run will post it. ${unaffected}`;
  const forkPattern =
    "use the two-workflow pattern: the `pull_request` workflow uploads the report as an artifact, and a second workflow on `workflow_run` downloads it and posts it with `comment-from: <path of the report JSON>` and `permissions: pull-requests: write`, never checking out the fork's code";
  const permission = 'add `permissions: pull-requests: write` to the job (or the workflow)';
  if (readOnlyForkToken)
    return `${opening} This pull request comes from a fork, so its \`pull_request\` run gets a read-only token whatever \`permissions\` says: ${forkPattern}. ${unaffected}`;
  if (readOnlyForkToken === false) return `${opening} The token may not write pull request comments: ${permission}. ${unaffected}`;
  return `${opening} The token may not write pull request comments: ${permission}; on pull requests from forks the token is read-only anyway, so ${forkPattern}. ${unaffected}`;
}

export async function upsertComment(options: UpsertCommentOptions): Promise<CommentResult> {
  const { github, owner, repo, issueNumber, mode, isRegression, log } = options;
  if (mode === 'never') return { action: 'skipped' };
  const marker = commentMarker(options.name);
  try {
    const login = await ownLogin(github);
    const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 });
    // Only at the start: another gate's comment may quote this marker in a crash line it shows.
    const ours = comments.filter((comment) => comment.user?.login === login && comment.body?.startsWith(marker));
    if (ours.length > 1) log.debug(`${ours.length} comments carry ${marker}; updating the oldest (${ours[0].html_url}).`);
    const existing = ours[0];
    if (!existing && mode === 'on-regression' && !isRegression) {
      log.info('No regression and no earlier loadgate comment on this pull request: no comment posted (comment: on-regression).');
      return { action: 'skipped' };
    }
    const resolved = existing !== undefined && mode === 'on-regression' && !isRegression;
    const body = resolved ? (options.resolvedBody ?? options.body) : options.body;
    if (!body.startsWith(marker)) throw new Error(`a loadgate comment body must start with its marker ${marker}`);
    const text = fitCommentBody(body);
    if (text.length < body.length) log.warning(`The report was cut to fit GitHub's ${COMMENT_CHAR_LIMIT}-character comment limit.`);
    if (existing) {
      const updated = await github.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body: text });
      const action = resolved ? 'resolved' : 'updated';
      log.info(`Pull request comment ${action}: ${updated.data.html_url}`);
      return { action, url: updated.data.html_url };
    }
    const created = await github.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body: text });
    log.info(`Pull request comment created: ${created.data.html_url}`);
    return { action: 'created', url: created.data.html_url };
  } catch (error) {
    if (httpStatus(error) !== 403) throw error;
    const warning = forbiddenWarning(error, options.readOnlyForkToken);
    log.warning(warning);
    return { action: 'skipped', warning };
  }
}
