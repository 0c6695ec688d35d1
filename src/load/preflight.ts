// The check before any load: one request to each target the run will load, sent as the load sends
// it. A refused connection, a DNS or TLS failure, a timeout or a non-2xx answer ends the run as an
// error within seconds, before the host is opened, locked or loaded; preflight-diagnosis.ts words
// it. A target that fails only under load is judged by its error rate, as before.

import { request as httpRequest, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactedUrl } from '../config/redact-url.ts';
import type { LoadSettings } from '../config/settings.ts';
import type { Log } from '../log.ts';
import { isSuccess, preflightFailureMessage, RETRY_PAUSES_MS, type FailedTarget, type TryOutcome } from './preflight-diagnosis.ts';
import { rttTargetOf } from './rtt-probe.ts';

/** One request of the run's load; a workload of several endpoints gives one each. */
export type PreflightRequest = Pick<LoadSettings, 'url' | 'method' | 'headers' | 'body'>;

export type PreflightOptions = Pick<LoadSettings, 'timeoutMs' | 'tlsVerify'>;

/** Every target of a run: `url`, and in A/B mode `baseline-url`, with the load's method, headers and body. */
export function preflightRequestsOf(load: PreflightRequest, abUrl: string | undefined): PreflightRequest[] {
  const { method, headers, body } = load;
  return [load.url, ...(abUrl === undefined ? [] : [abUrl])].map((url) => ({ url, method, headers, body }));
}

/** Sends every request, at once; throws the run's error when any target never answered 2xx. */
export async function preflight(requests: readonly PreflightRequest[], options: PreflightOptions, log: Log): Promise<void> {
  const failures = (await Promise.all(requests.map((request) => check(request, options, log)))).filter(
    (failure): failure is FailedTarget => failure !== undefined,
  );
  if (failures.length > 0) throw new Error(preflightFailureMessage(failures, options.timeoutMs));
}

/** Up to 3 tries, a pause before each again; a timeout is not tried again (a silent target costs one). */
async function check(request: PreflightRequest, options: PreflightOptions, log: Log): Promise<FailedTarget | undefined> {
  const tries: TryOutcome[] = [];
  for (const pauseMs of [0, ...RETRY_PAUSES_MS]) {
    if (pauseMs > 0) await sleep(pauseMs);
    const started = performance.now();
    const outcome = await send(request, options);
    if (isSuccess(outcome)) {
      const ms = (performance.now() - started).toFixed(1);
      log.info(`preflight: ${request.method} ${redactedUrl(request.url)} answered ${outcome.status} ${outcome.reason} in ${ms} ms`);
      return undefined;
    }
    tries.push(outcome);
    if (outcome.kind === 'timed-out') break;
  }
  const { method, headers, url } = request;
  return { target: { url, method, headers, ...rttTargetOf(url) }, tries };
}

function send(request: PreflightRequest, options: PreflightOptions): Promise<TryOutcome> {
  return new Promise((resolve) => {
    const url = new URL(request.url);
    const sent = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: request.method,
        headers: request.headers,
        // A connection of its own, closed after the answer: none is left open into the warmup.
        agent: false,
        // The load cannot verify (autocannon connects with rejectUnauthorized: false): this is where it is checked.
        rejectUnauthorized: options.tlsVerify,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // The status is the answer; a body cut off by the timeout does not change it.
        response.on('error', () => undefined);
        response.once('close', () =>
          resolve({ kind: 'answered', status, reason: STATUS_CODES[status] ?? '', location: response.headers.location }),
        );
        response.resume();
      },
    );
    sent.on('error', (error: NodeJS.ErrnoException) => {
      resolve(error.name === 'AbortError' ? { kind: 'timed-out' } : { kind: 'failed', code: error.code ?? '' });
    });
    sent.end(request.body);
  });
}
