// The one GitHub API client loadgate uses (PR comments, branch store): @actions/github's octokit
// pointed at the run's API URL, with a bounded retry on server errors and rate limits, since
// @actions/github does not bundle @octokit/plugin-retry or plugin-throttling.

import { getOctokit } from '@actions/github';
import type { Log } from '../log.ts';
import { messageOf } from '../errors.ts';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface GitHubClientOptions {
  token: string;
  /** `GITHUB_API_URL` of the run (`https://api.github.com`, or the GHES `…/api/v3`). */
  apiUrl: string;
  log: Log;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff delay, doubled per retry (default 1 s); `retry-after` wins when GitHub sends it. */
  retryBaseDelayMs?: number;
}

/** Waits longer than this are not worth holding a CI job for: the error surfaces instead. */
const MAX_WAIT_MS = 60_000;

interface ResponseError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

/** The HTTP status of an octokit error, undefined for anything else. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as ResponseError | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** GitHub's own message of an octokit error (the body's `message`), without the request URL. */
export function githubMessage(error: unknown): string {
  const data = (error as { response?: { data?: { message?: unknown } } } | null)?.response?.data;
  if (typeof data?.message === 'string') return data.message;
  return messageOf(error);
}

/** How long to wait before retrying, or undefined when the error is not worth a retry. */
function retryDelay(error: unknown, attempt: number, baseDelayMs: number): number | undefined {
  const status = httpStatus(error);
  const headers = (error as ResponseError).response?.headers ?? {};
  const secondaryRateLimit = status === 403 && /secondary rate limit|abuse/i.test(githubMessage(error));
  const retryable = status !== undefined && (status >= 500 || status === 429 || secondaryRateLimit || (status === 403 && headers['retry-after'] !== undefined));
  if (!retryable) return undefined;
  if (headers['retry-after'] !== undefined) {
    const wait = Number(headers['retry-after']) * 1000;
    return Number.isFinite(wait) && wait <= MAX_WAIT_MS ? Math.max(wait, 0) : undefined;
  }
  if (headers['x-ratelimit-remaining'] === '0' && headers['x-ratelimit-reset'] !== undefined) {
    const wait = Number(headers['x-ratelimit-reset']) * 1000 - Date.now();
    return wait <= MAX_WAIT_MS ? Math.max(wait, 0) : undefined;
  }
  return baseDelayMs * 2 ** attempt;
}

export function createGitHubClient({ token, apiUrl, log, retries = 3, retryBaseDelayMs = 1000 }: GitHubClientOptions): GitHubClient {
  const retryPlugin = (octokit: { hook: GitHubClient['hook'] }): void => {
    octokit.hook.wrap('request', async (request, options) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await request(options);
        } catch (error) {
          const wait = attempt < retries ? retryDelay(error, attempt, retryBaseDelayMs) : undefined;
          if (wait === undefined) throw error;
          log.info(`GitHub answered ${httpStatus(error)} to ${options.method} ${options.url}; retrying in ${(wait / 1000).toFixed(1)} s (${attempt + 1}/${retries}).`);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    });
  };
  return getOctokit(token, { baseUrl: apiUrl.replace(/\/+$/, '') }, retryPlugin);
}
