// Why a target failed the check before any load, in the words a person acts on: what happened to
// the requests, then what to check. A wrong URL, a deploy that did not start, an expired token or
// a certificate error is named here instead of reading as a slow build. Pure: load/preflight.ts
// sends the requests and hands their outcomes in as plain values.

import { isCredentialHeader, redactedUrl } from '../config/redact-url.ts';

/** Pauses before the second and third try: a service still binding its port gets a second. */
export const RETRY_PAUSES_MS = [250, 750] as const;

/** What one try of a target's check request came to. */
export type TryOutcome =
  | {
      kind: 'answered';
      status: number;
      /** The standard reason phrase (`Unauthorized`), never the server's own text. */
      reason: string;
      /** A redirect's `Location` header, as the server sent it. */
      location?: string;
    }
  /** No answer: Node's error code (`ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`), '' without one. */
  | { kind: 'failed'; code: string }
  | { kind: 'timed-out' };

type Answered = Extract<TryOutcome, { kind: 'answered' }>;

/** A target as the load will send it; its URL is shown only redacted, its header values never. */
export interface CheckedTarget {
  url: string;
  method: string;
  headers: Readonly<Record<string, string>>;
  /** The host and port the URL connects to. */
  host: string;
  port: number;
}

export interface FailedTarget {
  target: CheckedTarget;
  /** Every try, in order; none was answered 2xx. */
  tries: readonly TryOutcome[];
}

/** Every non-2xx answer is an error to the load (load/burst.ts): only a 2xx passes. */
export function isSuccess(outcome: TryOutcome): outcome is Answered {
  return outcome.kind === 'answered' && outcome.status >= 200 && outcome.status <= 299;
}

/** A Location header is the server's text: only a parsable URL is shown, redacted and short. */
const LOCATION_MAX_CHARS = 200;

interface Diagnosis {
  /** What happened to the request, as a predicate: "was answered 404 Not Found". */
  happened: string;
  /** What a person checks. */
  check: string;
}

function endpointOf(target: CheckedTarget): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

function shownLocation(location: string, base: string): string | undefined {
  try {
    const shown = redactedUrl(new URL(location, base).href);
    return shown.length <= LOCATION_MAX_CHARS ? shown : `${shown.slice(0, LOCATION_MAX_CHARS - 1)}…`;
  } catch {
    return undefined;
  }
}

/** 401: which credentials were sent decides what to check; header names are shown, values never. */
function unauthorizedCheck(target: CheckedTarget): string {
  const names = Object.keys(target.headers).filter(isCredentialHeader);
  const inUrl = new URL(target.url).username !== '';
  if (names.some((name) => name.toLowerCase() === 'authorization')) return 'the Authorization header was refused: is its token expired?';
  if (names.length > 0) return `the credentials sent (${names.map((name) => `\`${name}\``).join(', ')}) were refused: expired or wrong?`;
  if (inUrl) return 'the user and password in `url` were refused';
  return 'the Authorization header is missing: add it to `headers`';
}

function answeredDiagnosis(target: CheckedTarget, outcome: Answered): Diagnosis {
  const { status } = outcome;
  const answer = `was answered ${status}${outcome.reason ? ` ${outcome.reason}` : ''}`;
  if (status >= 300 && status <= 399) {
    const to = outcome.location === undefined ? undefined : shownLocation(outcome.location, target.url);
    return {
      happened: `${answer}${to ? `, to ${to}` : ''}`,
      check: 'the load does not follow redirects: set `url` to the address it redirects to',
    };
  }
  const checks: Record<number, string> = {
    401: unauthorizedCheck(target),
    403: "the server refuses this client: the credentials lack access to the path, or a firewall blocks the runner's address",
    404: 'the path does not exist on the target: did it move, or did the deploy not ship it?',
    405: `the path does not take \`method\` ${target.method}`,
    429: "the target is rate-limiting this client: a load would measure the limiter; exempt the runner's address or raise the limit",
    500: 'the service failed: check its logs',
    502: 'the proxy in front of the service got no valid answer from it: is the service running? Check its logs',
    503: 'the service is unavailable (starting, stopped or overloaded): check its logs',
    504: 'the proxy in front of the service timed out waiting for it: is the service hung? Check its logs',
  };
  const fallback =
    status >= 500
      ? 'the service failed: check its logs'
      : status >= 400
        ? 'the target refused the request: check `method`, `headers` and `body`'
        : 'only a 2xx answer is a success to the load';
  return { happened: answer, check: checks[status] ?? fallback };
}

const TLS_FIX = 'for a staging host with its own certificate, set `tls-verify: false` or give Node its CA (NODE_EXTRA_CA_CERTS)';

const UNKNOWN_AUTHORITY = 'is signed by an authority the runner does not know (or the server does not send its intermediate certificates)';

/** Node's certificate verification codes, as the certificate's fault in words. */
const CERTIFICATE_FAULTS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'is signed by a self-signed authority the runner does not trust',
  CERT_HAS_EXPIRED: 'has expired',
  CERT_NOT_YET_VALID: "is not valid yet (or the runner's or the host's clock is wrong)",
  ERR_TLS_CERT_ALTNAME_INVALID: 'was issued for other host names',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNKNOWN_AUTHORITY,
  UNABLE_TO_GET_ISSUER_CERT: UNKNOWN_AUTHORITY,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNKNOWN_AUTHORITY,
  CERT_REVOKED: 'is revoked',
};

function failedDiagnosis(target: CheckedTarget, code: string): Diagnosis {
  const endpoint = endpointOf(target);
  const https = new URL(target.url).protocol === 'https:';
  const fault = CERTIFICATE_FAULTS[code];
  if (fault) {
    const renew =
      code === 'CERT_HAS_EXPIRED' ? 'renew it; ' : code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'use a name it was issued for; ' : '';
    return { happened: `failed TLS verification: the certificate of ${endpoint} ${fault} (${code})`, check: `${renew}${TLS_FIX}` };
  }
  switch (code) {
    case 'ECONNREFUSED':
      return { happened: 'was refused', check: `nothing is listening on ${endpoint}. Did the deploy start the service?` };
    case 'ENOTFOUND':
      return {
        happened: `failed: the host name ${target.host} does not resolve (DNS: ENOTFOUND)`,
        check: "check the URL's host name and its DNS record",
      };
    case 'EAI_AGAIN':
      return {
        happened: `failed: looking up ${target.host} in DNS failed for now (EAI_AGAIN)`,
        check: "the runner's DNS resolver did not answer: check the runner's network, or run again",
      };
    case 'ECONNRESET':
      return {
        happened: 'was cut off before an answer (ECONNRESET)',
        check: https
          ? 'a proxy or firewall in between, or the service, closed the connection: check its logs'
          : `does ${endpoint} serve https (then use https://)? Else a proxy, a firewall or the service closed the connection`,
      };
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return {
        happened: `failed the TLS handshake with ${endpoint} (${code})`,
        check: `does ${endpoint} serve plain http? Then use http://`,
      };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { happened: `failed: no route to ${target.host} (${code})`, check: "is the host up, and does the runner's network reach it?" };
    case 'ETIMEDOUT':
      return {
        happened: `got no TCP connection to ${endpoint} (ETIMEDOUT)`,
        check: "is the host up? A firewall may drop the runner's packets",
      };
  }
  if (code.startsWith('HPE_'))
    return { happened: `was answered with something that is not HTTP (${code})`, check: `is ${endpoint} the service's port?` };
  if (/CERT|TLS|SSL/.test(code)) return { happened: `failed TLS verification with ${endpoint} (${code})`, check: TLS_FIX };
  return { happened: `failed${code ? ` (${code})` : ''}`, check: 'is the target up and reachable from the runner?' };
}

function diagnosis(target: CheckedTarget, outcome: TryOutcome, timeoutMs: number): Diagnosis {
  if (outcome.kind === 'answered') return answeredDiagnosis(target, outcome);
  if (outcome.kind === 'failed') return failedDiagnosis(target, outcome.code);
  return {
    happened: `got no answer within ${timeoutMs / 1000} s (the \`timeout\` input)`,
    check: "is the service hung? Else a firewall may drop the runner's packets",
  };
}

/** One line for one target: what its tries came to, then what to check. */
export function failureSentence(failure: FailedTarget, timeoutMs: number): string {
  const { target, tries } = failure;
  const shown = redactedUrl(target.url);
  const diagnosed = tries.map((outcome) => diagnosis(target, outcome, timeoutMs));
  const last = diagnosed.at(-1);
  if (!last) throw new Error('a failed target has at least one try');
  if (diagnosed.every((d) => d.happened === last.happened)) {
    return `${tries.length === 1 ? 'the request' : 'every request'} to ${shown} ${last.happened}: ${last.check}`;
  }
  return `${tries.length} requests to ${shown} failed; the last ${last.happened}: ${last.check}`;
}

/**
 * The run's error: the first failed target's sentence is the headline (the verdict line); the
 * other failed targets follow, then what was and was not sent.
 */
export function preflightFailureMessage(failures: readonly FailedTarget[], timeoutMs: number): string {
  const tries = RETRY_PAUSES_MS.length + 1;
  return [
    ...failures.map((failure) => failureSentence(failure, timeoutMs)),
    `No load was sent: before the warmup, loadgate sends each target its request (up to ${tries} tries ` +
      `over ${RETRY_PAUSES_MS.reduce((sum, ms) => sum + ms, 0) / 1000} s) and loads it only on a 2xx answer.`,
  ].join('\n');
}
