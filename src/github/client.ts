// The one GitHub API client loadgate uses (PR comments, branch store): @actions/github's octokit
// pointed at the run's API URL, composed with @octokit/plugin-throttling and @octokit/plugin-retry
// (as peter-evans/create-pull-request does). Throttling paces writes as GitHub asks and waits out
// rate limits, primary and secondary; retry repeats requests that met a server error (5xx).
// Every other 4xx is an answer for the caller (a 409 sha conflict, a 403 permission), not retried.
//
// The one option passed beyond the plugins' documented ones is their pacing groups: the plugin
// spaces writes 1 s apart (3 s for those that notify, 2 s for searches), as GitHub asks, with no
// setting to scale it. A run makes a handful of writes, so that costs it a few seconds; the tests
// make hundreds and took 106 s instead of 10 s (the branch store's timed out). So the groups are
// built here with the same spacing, in the same unit as every other wait, which tests shrink.

import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck/light.js';
import type { Log } from '../log.ts';
import { messageOf } from '../errors.ts';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface GitHubClientOptions {
  token: string;
  /** `GITHUB_API_URL` of the run (`https://api.github.com`, or the GHES `…/api/v3`). */
  apiUrl: string;
  log: Log;
  /** Retries after the first attempt, after a server error or a rate limit (default 3). */
  retries?: number;
  /**
   * The unit of every wait, 1000 ms by default: after a server error the client waits 1, 4, 9 units,
   * after a rate limit the seconds GitHub names, between writes 1 unit. Tests shrink it.
   */
  retryBaseDelayMs?: number;
}

/** Waits longer than this are not worth holding a CI job for: the error surfaces instead. */
const MAX_WAIT_SECONDS = 60;

/** Not retried by plugin-retry: client errors are answers, and rate limits are plugin-throttling's. */
const CLIENT_ERRORS = Array.from({ length: 100 }, (_, offset) => 400 + offset);

/** GitHub's spacing between requests of one kind, in units of `retryBaseDelayMs` (as plugin-throttling has it). */
const PACING_UNITS = { write: 1, search: 2, notifications: 3 } as const;

function pacingGroups(unitMs: number): Record<keyof typeof PACING_UNITS, Bottleneck.Group> {
  const group = (units: number) => new Bottleneck.Group({ maxConcurrent: 1, minTime: units * unitMs });
  return { write: group(PACING_UNITS.write), search: group(PACING_UNITS.search), notifications: group(PACING_UNITS.notifications) };
}

interface ResponseError {
  status?: number;
  message?: string;
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

interface RequestOptions {
  method: string;
  url: string;
  request?: { retryCount?: number };
}

export function createGitHubClient({ token, apiUrl, log, retries = 3, retryBaseDelayMs = 1000 }: GitHubClientOptions): GitHubClient {
  // plugin-retry waits silently; registered first, this hook sees each attempt's own error.
  const logServerErrorRetries = (octokit: { hook: GitHubClient['hook'] }): void => {
    octokit.hook.error('request', (error, options) => {
      const status = httpStatus(error);
      const retried = (options as RequestOptions).request?.retryCount ?? 0;
      if (status !== undefined && status >= 500 && retried < retries) {
        log.info(`GitHub answered ${status} to ${options.method} ${options.url}; retrying (${retried + 1}/${retries}).`);
      }
      throw error;
    });
  };
  const waitOrGiveUp =
    (limit: string) =>
    (retryAfterSeconds: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const what = `GitHub's ${limit} rate limit stopped ${options.method} ${options.url}`;
      if (retryCount >= retries) {
        log.info(`${what} again after ${retries} retries; giving up.`);
        return false;
      }
      if (retryAfterSeconds > MAX_WAIT_SECONDS) {
        log.info(`${what}; it lifts in ${retryAfterSeconds} s, longer than the ${MAX_WAIT_SECONDS} s loadgate waits.`);
        return false;
      }
      log.info(`${what}; retrying in ${retryAfterSeconds} s (${retryCount + 1}/${retries}).`);
      return true;
    };
  return getOctokit(
    token,
    {
      baseUrl: apiUrl.replace(/\/+$/, ''),
      retry: { retries, retryAfterBaseValue: retryBaseDelayMs, doNotRetry: CLIENT_ERRORS },
      throttle: {
        ...pacingGroups(retryBaseDelayMs),
        retryAfterBaseValue: retryBaseDelayMs,
        onRateLimit: waitOrGiveUp('primary'),
        onSecondaryRateLimit: waitOrGiveUp('secondary'),
      },
    },
    logServerErrorRetries,
    throttling,
    retry,
  );
}
