import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { RawInputs } from '../../src/config/input-defaults.ts';
import { ConfigError, parseInputs } from '../../src/config/parse.ts';

function problemsOf(raw: RawInputs): string {
  try {
    parseInputs({ url: 'http://127.0.0.1:8080/api', ...raw });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('parseInputs: credentials in inputs', { timeout: 10_000 }, () => {
  it('lists the secrets of url and baseline-url for the runner to mask', () => {
    const plan = parseInputs({
      url: 'https://deploy:hunter2@staging.example.com/api?api_key=SECRETKEY&page=2',
      'baseline-url': 'https://main.example.com/api?token=0TH3RTOKEN',
    });
    assert.equal(plan.kind, 'measure');
    for (const secret of ['deploy', 'hunter2', 'SECRETKEY', '0TH3RTOKEN']) assert.ok(plan.settings.secrets.includes(secret), secret);
    assert.ok(!plan.settings.secrets.includes('2'), 'a short query value would blank every 2 in the log');
  });

  it('lists the values of credential headers, and only those', () => {
    const headers =
      'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.s3cr3t\nX-Api-Key: k3y-0f-the-day\nCookie: sid=abc123\nAccept: application/json';
    const plan = parseInputs({ url: 'https://staging.example.com/api', headers });
    assert.equal(plan.kind, 'measure');
    assert.deepEqual(
      plan.settings.secrets.sort(),
      ['Bearer eyJhbGciOiJIUzI1NiJ9.s3cr3t', 'eyJhbGciOiJIUzI1NiJ9.s3cr3t', 'k3y-0f-the-day', 'sid=abc123'].sort(),
    );
  });

  it('has no secrets for a plain URL', () => {
    const plan = parseInputs({ url: 'https://staging.example.com/api' });
    assert.equal(plan.kind, 'measure');
    assert.deepEqual(plan.settings.secrets, []);
  });

  it('echoes a rejected URL redacted', () => {
    const message = problemsOf({
      url: 'ftp://deploy:hunter2@staging.example.com/x?api_key=SECRETKEY',
      'baseline-url': 'main.example.com/?token=0TH3RTOKEN',
    });
    assert.match(message, /input `url`: got "ftp:\/\/\*\*\*@staging\.example\.com\/x\?api_key=\*\*\*"/);
    assert.match(message, /input `baseline-url`: got "main\.example\.com\/\?\*\*\*"/);
    assert.doesNotMatch(message, /hunter2|deploy|SECRETKEY|0TH3RTOKEN/);
  });

  it('refuses a URL whose password ends its authority early, echoing it without the password (issue 25)', () => {
    const message = problemsOf({
      url: 'https://deploy:hunter2/xyz@staging.example.com/api',
      'baseline-url': 'deploy:hunter2@main.example.com/api?token=0TH3RTOKEN',
    });
    assert.match(
      message,
      /input `url`: got "https:\/\/\*\*\*@staging\.example\.com\/api"; expected an absolute http:\/\/ or https:\/\/ URL .*percent-encoded \(`%2F`/,
    );
    assert.match(message, /input `baseline-url`: got "\*\*\*@main\.example\.com\/api\?\*\*\*"; expected an absolute http/);
    assert.doesNotMatch(message, /hunter2|deploy|0TH3RTOKEN/);
  });

  it('refuses userinfo the load engine cannot percent-decode, before any traffic (issue 25)', () => {
    for (const [url, shown] of [
      ['https://deploy:hun%zzter2@staging.example.com/api', 'https://***@staging.example.com/api'],
      ['http://de%ploy@127.0.0.1:8080/x?api_key=SECRETKEY', 'http://***@127.0.0.1:8080/x?api_key=***'],
    ]) {
      for (const name of ['url', 'baseline-url'] as const) {
        const message = problemsOf({ [name]: url });
        assert.ok(message.includes(`input \`${name}\`: got "${shown}"; expected an absolute http`), message);
        assert.match(message, /`%` in a user name or password percent-encoded/);
        assert.doesNotMatch(message, /hun|ploy|SECRETKEY/);
      }
    }
    // Elsewhere in the URL a stray `%` reaches the server as written, which is the server's to judge.
    assert.equal(parseInputs({ url: 'http://127.0.0.1:8080/a%zz?q=%zz' }).kind, 'measure');
  });

  it('never echoes a header line it rejects: the line may be the credential', () => {
    const message = problemsOf({ headers: 'Bearer eyJhbGciOiJIUzI1NiJ9.s3cr3t' });
    assert.match(message, /input `headers`: line 1 is not `Name: value`/);
    assert.doesNotMatch(message, /eyJ|s3cr3t|Bearer/);
  });
});
