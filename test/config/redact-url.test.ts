import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { redactedUrl, urlSecrets, withoutSecrets } from '../../src/config/redact-url.ts';

describe('redactedUrl: what of a target URL may be shown', { timeout: 10_000 }, () => {
  it('replaces userinfo, every query value and the fragment, and keeps host, path and query names', () => {
    assert.equal(
      redactedUrl('https://user:pass@staging.example.com:8443/api/items?api_key=k3y&page=2#top'),
      'https://***@staging.example.com:8443/api/items?api_key=***&page=***#***',
    );
    assert.equal(redactedUrl('https://token@host/'), 'https://***@host/');
    assert.equal(redactedUrl('https://:pass@host/'), 'https://***@host/');
  });

  it('treats a bare query part as a value and keeps empty values empty', () => {
    assert.equal(redactedUrl('http://127.0.0.1:8080/hook?s3cr3tt0ken'), 'http://127.0.0.1:8080/hook?***');
    assert.equal(redactedUrl('http://127.0.0.1:8080/x?a=&b=1&&'), 'http://127.0.0.1:8080/x?a=&b=***&&');
  });

  it('leaves a URL without secrets exactly as it is, so stored baselines of it still match', () => {
    for (const url of ['https://staging.example.com/api/items', 'http://127.0.0.1:8080/', 'https://host/a%20b/c']) {
      assert.equal(redactedUrl(url), url);
    }
  });

  it('is idempotent: redacting a redacted URL changes nothing', () => {
    const once = redactedUrl('https://u:p@host/p?api_key=secret&x=1#f');
    assert.equal(redactedUrl(once), once);
  });

  it('cuts text that is not a URL where a secret would start', () => {
    assert.equal(redactedUrl('staging.example.com/x?api_key=SECRET'), 'staging.example.com/x?***');
    assert.equal(redactedUrl('https://user:pa ss@/nohost'), 'https://***@/nohost');
    assert.equal(redactedUrl('not a url'), 'not a url');
  });

  it('takes the userinfo to the last `@` of text that is no URL with a host (issue 25)', () => {
    // A `/` in the password ends the authority for a parser: the port is then `hunter2` and invalid.
    assert.equal(redactedUrl('https://deploy:hunter2/xyz@staging.example.com/api'), 'https://***@staging.example.com/api');
    assert.equal(redactedUrl('https://deploy:hun?ter#2@staging.example.com/api?k=v'), 'https://***@staging.example.com/api?***');
    // Without `//` the user name parses as a scheme and the rest as a path, with no host.
    assert.equal(redactedUrl('deploy:hunter2@staging.example.com/api'), '***@staging.example.com/api');
  });
});

describe('urlSecrets: what the runner must mask', { timeout: 10_000 }, () => {
  it('lists user, password and query values as written and decoded', () => {
    const secrets = urlSecrets('https://de%40ploy:hun%20ter2@host/x?api_key=SE%2BCRET&page=2&token');
    for (const secret of ['de%40ploy', 'de@ploy', 'hun%20ter2', 'hun ter2', 'SE%2BCRET', 'SE+CRET', 'token']) {
      assert.ok(secrets.includes(secret), `${secret} in ${JSON.stringify(secrets)}`);
    }
  });

  it('lists what would be user, password and query values of text that does not parse (issue 25)', () => {
    assert.deepEqual(urlSecrets('https://deploy:hunter2/xyz@staging.example.com/api?api_key=SECRETKEY#frag'), [
      'deploy',
      'hunter2/xyz',
      'SECRETKEY',
      'frag',
    ]);
    assert.deepEqual(urlSecrets('deploy:hun%20ter2@staging.example.com/api'), ['deploy', 'hun%20ter2', 'hun ter2']);
    assert.deepEqual(urlSecrets('not a url'), []);
  });

  it('leaves out parts too short to mask without blanking the log', () => {
    assert.deepEqual(urlSecrets('https://git:pw@host/x?page=2&q=abc'), []);
  });

  it('is empty for a URL without secrets', () => {
    assert.deepEqual(urlSecrets('https://staging.example.com/api/items'), []);
  });
});

describe('withoutSecrets: an error message that quotes the URL', { timeout: 10_000 }, () => {
  it('replaces every occurrence, longest secret first', () => {
    const secrets = urlSecrets('http://deploy:deploy-pass@127.0.0.1:9/x?api_key=SECRETKEY');
    const message = withoutSecrets('connect failed: http://deploy:deploy-pass@127.0.0.1:9/x?api_key=SECRETKEY (SECRETKEY)', secrets);
    assert.equal(message, 'connect failed: http://***:***@127.0.0.1:9/x?api_key=*** (***)');
  });
});
