// The fake itself: its answers must be GitHub's (pagination links, limits, preconditions, the
// installation token's 403 on /user), and its schema checks must really catch a wrong shape.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ACTIONS_BOT, GitHubFake, HUMAN } from './github-fake.ts';
import { responseProblems } from './openapi-validator.ts';

describe('GitHub API fake', { timeout: 60_000 }, () => {
  let fake: GitHubFake;
  const call = async (method: string, path: string, body?: unknown, token = fake.token) => {
    const response = await fetch(`${fake.url}${path}`, {
      method,
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      link: response.headers.get('link'),
      retryAfter: response.headers.get('retry-after'),
      json: (await response.json()) as any,
    };
  };

  before(async () => {
    fake = await GitHubFake.start();
  });
  after(() => fake.close());

  test('pages comments with per_page and page and a Link header like GitHub', async () => {
    for (let i = 0; i < 250; i += 1) fake.addComment(7, `comment ${i}`, HUMAN);
    const first = await call('GET', '/repos/acme/shop/issues/7/comments?per_page=100');
    assert.equal(first.status, 200);
    assert.equal(first.json.length, 100);
    assert.equal(first.json[0].body, 'comment 0');
    assert.equal(
      first.link,
      `<${fake.url}/repos/acme/shop/issues/7/comments?per_page=100&page=2>; rel="next", <${fake.url}/repos/acme/shop/issues/7/comments?per_page=100&page=3>; rel="last"`,
    );
    const last = await call('GET', '/repos/acme/shop/issues/7/comments?per_page=100&page=3');
    assert.equal(last.json.length, 50);
    assert.equal(last.json[49].body, 'comment 249');
    assert.match(last.link!, /page=1>; rel="first", <[^>]+page=2>; rel="prev"$/);
    assert.doesNotMatch(last.link!, /rel="next"/);
    const defaults = await call('GET', '/repos/acme/shop/issues/7/comments');
    assert.equal(defaults.json.length, 30, 'GitHub pages 30 by default');
    assert.deepEqual(fake.violations, []);
  });

  test('refuses a comment body over 65,536 characters with 422, accepts exactly 65,536', async () => {
    const tooLong = await call('POST', '/repos/acme/shop/issues/8/comments', { body: 'x'.repeat(65_537) });
    assert.equal(tooLong.status, 422);
    assert.equal(tooLong.json.errors[0].message, 'Body is too long (maximum is 65536 characters)');
    const atLimit = await call('POST', '/repos/acme/shop/issues/8/comments', { body: 'x'.repeat(65_536) });
    assert.equal(atLimit.status, 201);
    assert.deepEqual(atLimit.json.user.login, ACTIONS_BOT.login);
    assert.equal(atLimit.json.user.type, 'Bot');
    assert.deepEqual(fake.violations, []);
  });

  test('answers GET /user with 403 for the job token, and GraphQL viewer with the bot login', async () => {
    const user = await call('GET', '/user');
    assert.equal(user.status, 403);
    assert.equal(user.json.message, 'Resource not accessible by integration');
    const viewer = await call('POST', '/graphql', { query: 'query { viewer { login } }' });
    assert.deepEqual(viewer.json, { data: { viewer: { login: 'github-actions[bot]' } } });
    assert.equal((await call('GET', '/user', undefined, 'ghs_wrong')).status, 401);
    assert.deepEqual(fake.violations, []);
  });

  test('injects faults for the next N requests of a route only', async () => {
    fake.failNext('issues/list-comments', 502, { times: 2 });
    fake.failNext('issues/create-comment', 403, { message: 'You have exceeded a secondary rate limit', retryAfterSeconds: 3 });
    assert.equal((await call('GET', '/repos/acme/shop/issues/9/comments')).status, 502);
    assert.equal((await call('GET', '/repos/acme/shop/issues/9/comments')).status, 502);
    assert.equal((await call('GET', '/repos/acme/shop/issues/9/comments')).status, 200);
    const limited = await call('POST', '/repos/acme/shop/issues/9/comments', { body: 'hi' });
    assert.equal(limited.status, 403);
    assert.equal(limited.retryAfter, '3');
    assert.equal((await call('POST', '/repos/acme/shop/issues/9/comments', { body: 'hi' })).status, 201);
    assert.deepEqual(fake.violations, []);
  });

  test('enforces the contents API sha precondition: 422 without sha, 409 with a stale one', async () => {
    const put = (body: Record<string, unknown>) =>
      call('PUT', '/repos/acme/shop/contents/data%2Fa.json', { message: 'm', branch: 'main', ...body });
    const created = await put({ content: Buffer.from('one').toString('base64') });
    assert.equal(created.status, 201);
    const read = await call('GET', '/repos/acme/shop/contents/data%2Fa.json?ref=main');
    assert.equal(read.json.sha, created.json.content.sha);
    assert.equal(Buffer.from(read.json.content, 'base64').toString(), 'one');
    assert.equal((await put({ content: Buffer.from('two').toString('base64') })).status, 422);
    assert.equal((await put({ content: Buffer.from('two').toString('base64'), sha: '0'.repeat(40) })).status, 409);
    fake.conflictOnNextPut((current) => `${current}+other`);
    assert.equal((await put({ content: Buffer.from('two').toString('base64'), sha: read.json.sha })).status, 409);
    assert.equal(fake.fileText('main', 'data/a.json'), 'one+other');
    assert.equal((await call('GET', '/repos/acme/shop/contents/data%2Fa.json?ref=nope')).json.message, 'No commit found for the ref nope');
    assert.deepEqual(fake.violations, []);
  });

  test('a request that breaks the description answers 500 and is recorded as a violation', async () => {
    const wrongType = await call('POST', '/repos/acme/shop/issues/10/comments', { body: 42 });
    assert.equal(wrongType.status, 500);
    const unknownQuery = await call('GET', '/repos/acme/shop/issues/10/comments?perpage=100');
    assert.equal(unknownQuery.status, 500);
    assert.equal(fake.violations.length, 2);
    assert.match(fake.violations[0], /body\.body is number, expected string/);
    assert.match(fake.violations[1], /query parameter perpage is not described/);
    fake.violations.length = 0;
  });

  test('the response checker rejects a comment without its user, a wrong enum and a bad date', () => {
    const comment = {
      id: 1,
      node_id: 'x',
      url: 'http://h/1',
      html_url: 'http://h/1',
      issue_url: 'http://h/i',
      created_at: '2024-01-01T00:00:00Z',
      updated_at: 'yesterday',
      author_association: 'FRIEND',
    };
    const problems = responseProblems('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 201, comment);
    assert.deepEqual(problems, [
      'response.user is required but missing',
      'response.updated_at is not an ISO date-time: "yesterday"',
      'response.author_association is "FRIEND", expected one of ["COLLABORATOR","CONTRIBUTOR","FIRST_TIMER","FIRST_TIME_CONTRIBUTOR","MANNEQUIN","MEMBER","NONE","OWNER"]',
    ]);
  });
});
