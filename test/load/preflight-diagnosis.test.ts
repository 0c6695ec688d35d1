// The words of a failed check before any load, from plain outcomes: each cause names what to check,
// the URL shows only redacted, header values never.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  failureSentence,
  isSuccess,
  preflightFailureMessage,
  type CheckedTarget,
  type TryOutcome,
} from '../../src/load/preflight-diagnosis.ts';

const TARGET: CheckedTarget = {
  url: 'https://staging.example.com/api/items',
  method: 'GET',
  headers: {},
  host: 'staging.example.com',
  port: 443,
};
const TIMEOUT_MS = 10_000;

const answered = (status: number, reason: string, location?: string): TryOutcome => ({ kind: 'answered', status, reason, location });
const failed = (code: string): TryOutcome => ({ kind: 'failed', code });
/** The sentence for a target whose three tries all came to `outcome`. */
const sentence = (outcome: TryOutcome, target: CheckedTarget = TARGET) =>
  failureSentence({ target, tries: [outcome, outcome, outcome] }, TIMEOUT_MS);

describe('the check before any load: what failed and what to check', { timeout: 10_000 }, () => {
  test('only a 2xx answer passes, as the load counts it', () => {
    assert.equal(isSuccess(answered(200, 'OK')), true);
    assert.equal(isSuccess(answered(204, 'No Content')), true);
    for (const outcome of [
      answered(301, 'Moved Permanently'),
      answered(404, 'Not Found'),
      failed('ECONNREFUSED'),
      { kind: 'timed-out' } as const,
    ]) {
      assert.equal(isSuccess(outcome), false, JSON.stringify(outcome));
    }
  });

  test('a 401 names the credentials to check, by header name only', () => {
    assert.equal(
      sentence(answered(401, 'Unauthorized')),
      'every request to https://staging.example.com/api/items was answered 401 Unauthorized: the Authorization header is missing: add it to `headers`',
    );
    const bearer = { ...TARGET, headers: { Authorization: 'Bearer SECRET-TOKEN-1234' } };
    assert.equal(
      sentence(answered(401, 'Unauthorized'), bearer),
      'every request to https://staging.example.com/api/items was answered 401 Unauthorized: the Authorization header was refused: is its token expired?',
    );
    const cookie = { ...TARGET, headers: { Cookie: 'session=SECRET-COOKIE-1234', Accept: 'application/json' } };
    assert.match(sentence(answered(401, 'Unauthorized'), cookie), /: the credentials sent \(`Cookie`\) were refused: expired or wrong\?$/);
    const inUrl = { ...TARGET, url: 'https://deploy:hunter2@staging.example.com/api/items' };
    const withUser = sentence(answered(401, 'Unauthorized'), inUrl);
    assert.match(
      withUser,
      /^every request to https:\/\/\*\*\*@staging\.example\.com\/api\/items was answered 401 Unauthorized: the user and password in `url` were refused$/,
    );
    for (const text of [sentence(answered(401, 'Unauthorized'), bearer), sentence(answered(401, 'Unauthorized'), cookie), withUser]) {
      assert.doesNotMatch(text, /SECRET|hunter2/);
    }
  });

  test('403, 404, 405, 429 and 5xx each say what to check', () => {
    assert.match(
      sentence(answered(403, 'Forbidden')),
      /was answered 403 Forbidden: the server refuses this client: the credentials lack access/,
    );
    assert.equal(
      sentence(answered(404, 'Not Found')),
      'every request to https://staging.example.com/api/items was answered 404 Not Found: the path does not exist on the target: did it move, or did the deploy not ship it?',
    );
    assert.match(sentence(answered(405, 'Method Not Allowed')), /405 Method Not Allowed: the path does not take `method` GET$/);
    assert.match(sentence(answered(429, 'Too Many Requests')), /429 Too Many Requests: the target is rate-limiting this client/);
    assert.match(
      sentence(answered(500, 'Internal Server Error')),
      /was answered 500 Internal Server Error: the service failed: check its logs$/,
    );
    assert.match(
      sentence(answered(502, 'Bad Gateway')),
      /502 Bad Gateway: the proxy in front of the service got no valid answer from it: is the service running\?/,
    );
    assert.match(
      sentence(answered(503, 'Service Unavailable')),
      /503 Service Unavailable: the service is unavailable \(starting, stopped or overloaded\)/,
    );
    assert.match(sentence(answered(504, 'Gateway Timeout')), /504 Gateway Timeout: the proxy in front of the service timed out/);
    assert.match(sentence(answered(599, '')), /was answered 599: the service failed: check its logs$/);
    assert.match(
      sentence(answered(418, "I'm a Teapot")),
      /418 I'm a Teapot: the target refused the request: check `method`, `headers` and `body`$/,
    );
  });

  test('a redirect shows where to, redacted, and says the load does not follow it', () => {
    const to = sentence(answered(301, 'Moved Permanently', '/v2/items?token=SECRET-IN-LOCATION'));
    assert.equal(
      to,
      'every request to https://staging.example.com/api/items was answered 301 Moved Permanently, to https://staging.example.com/v2/items?token=***: ' +
        'the load does not follow redirects: set `url` to the address it redirects to',
    );
    const unparsable = sentence(answered(302, 'Found', 'http://[bad'));
    assert.match(unparsable, /was answered 302 Found: the load does not follow redirects/);
    const long = sentence(answered(307, 'Temporary Redirect', `/${'a'.repeat(500)}`));
    assert.ok(long.length < 400, long);
  });

  test('no answer: refused, DNS, reset, a timeout, no route', () => {
    assert.equal(
      sentence(failed('ECONNREFUSED'), { ...TARGET, host: '10.0.0.5', port: 8080, url: 'http://10.0.0.5:8080/' }),
      'every request to http://10.0.0.5:8080/ was refused: nothing is listening on 10.0.0.5:8080. Did the deploy start the service?',
    );
    assert.match(sentence(failed('ECONNREFUSED'), { ...TARGET, host: '::1', port: 80 }), /nothing is listening on \[::1\]:80\./);
    assert.match(
      sentence(failed('ENOTFOUND')),
      /failed: the host name staging\.example\.com does not resolve \(DNS: ENOTFOUND\): check the URL's host name/,
    );
    assert.match(sentence(failed('EAI_AGAIN')), /looking up staging\.example\.com in DNS failed for now \(EAI_AGAIN\)/);
    assert.match(
      sentence(failed('ECONNRESET'), { ...TARGET, url: 'http://staging.example.com:8443/' }),
      /does staging\.example\.com:443 serve https \(then use https:\/\/\)\?/,
    );
    assert.match(
      sentence(failed('EPROTO')),
      /failed the TLS handshake with staging\.example\.com:443 \(EPROTO\): does staging\.example\.com:443 serve plain http\? Then use http:\/\//,
    );
    assert.match(sentence(failed('EHOSTUNREACH')), /no route to staging\.example\.com \(EHOSTUNREACH\)/);
    assert.match(
      sentence(failed('HPE_INVALID_CONSTANT')),
      /was answered with something that is not HTTP \(HPE_INVALID_CONSTANT\): is staging\.example\.com:443 the service's port\?/,
    );
    assert.match(
      sentence(failed('')),
      /^every request to https:\/\/staging\.example\.com\/api\/items failed: is the target up and reachable from the runner\?$/,
    );
    assert.equal(
      failureSentence({ target: TARGET, tries: [{ kind: 'timed-out' }] }, 10_000),
      'the request to https://staging.example.com/api/items got no answer within 10 s (the `timeout` input): ' +
        "is the service hung? Else a firewall may drop the runner's packets",
    );
  });

  test('a certificate that fails verification is named, with the way out for a staging host', () => {
    const selfSigned = sentence(failed('DEPTH_ZERO_SELF_SIGNED_CERT'));
    assert.equal(
      selfSigned,
      'every request to https://staging.example.com/api/items failed TLS verification: the certificate of staging.example.com:443 is self-signed ' +
        '(DEPTH_ZERO_SELF_SIGNED_CERT): for a staging host with its own certificate, set `tls-verify: false` or give Node its CA (NODE_EXTRA_CA_CERTS)',
    );
    assert.match(
      sentence(failed('CERT_HAS_EXPIRED')),
      /the certificate of staging\.example\.com:443 has expired \(CERT_HAS_EXPIRED\): renew it; /,
    );
    assert.match(
      sentence(failed('ERR_TLS_CERT_ALTNAME_INVALID')),
      /was issued for other host names \(ERR_TLS_CERT_ALTNAME_INVALID\): use a name it was issued for; /,
    );
    assert.match(sentence(failed('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), /is signed by an authority the runner does not know/);
    assert.match(sentence(failed('SELF_SIGNED_CERT_IN_CHAIN')), /is signed by a self-signed authority/);
    assert.match(
      sentence(failed('ERR_SSL_SOMETHING_NEW')),
      /failed TLS verification with staging\.example\.com:443 \(ERR_SSL_SOMETHING_NEW\): .*`tls-verify: false`/,
    );
  });

  test('tries that differ say how many failed and what the last one came to', () => {
    const text = failureSentence(
      { target: TARGET, tries: [failed('ECONNREFUSED'), answered(503, 'Service Unavailable'), answered(503, 'Service Unavailable')] },
      TIMEOUT_MS,
    );
    assert.equal(
      text,
      '3 requests to https://staging.example.com/api/items failed; the last was answered 503 Service Unavailable: ' +
        'the service is unavailable (starting, stopped or overloaded): check its logs',
    );
  });

  test('the message: the first failed target is the headline, the others follow, then that no load was sent', () => {
    const baseline = { ...TARGET, url: 'https://main.staging.example.com/api/items', host: 'main.staging.example.com' };
    const message = preflightFailureMessage(
      [
        { target: TARGET, tries: [answered(404, 'Not Found')] },
        { target: baseline, tries: [failed('ECONNREFUSED')] },
      ],
      TIMEOUT_MS,
    );
    const lines = message.split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^the request to https:\/\/staging\.example\.com\/api\/items was answered 404 Not Found/);
    assert.match(
      lines[1],
      /^the request to https:\/\/main\.staging\.example\.com\/api\/items was refused: nothing is listening on main\.staging\.example\.com:443\./,
    );
    assert.equal(
      lines[2],
      'No load was sent: before the warmup, loadgate sends each target its request (up to 3 tries over 1 s) and loads it only on a 2xx answer.',
    );
  });
});
