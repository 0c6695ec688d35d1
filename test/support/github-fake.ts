// A local stand-in for the GitHub REST API routes loadgate uses, held in memory: issue comments,
// the open pull requests list, the repository (its default branch), the contents API on branches
// (and the git blobs API, for files past its 1 MB), the git data calls that create an orphan branch
// and list a branch's files, `GET /user` and GraphQL `viewer { login }`. Every request and
// response body is checked against GitHub's OpenAPI description; a mismatch answers 500 and lands
// in `violations`, so a test that asserts zero violations proves both our client and this fake
// speak the real API's shapes.

import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { operationId, requestProblems, responseProblems } from './openapi-validator.ts';

export interface FakeAccount {
  login: string;
  id: number;
  type: 'Bot' | 'User';
}

/** Who the job's token (an installation token) acts as. */
export const ACTIONS_BOT: FakeAccount = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };
export const HUMAN: FakeAccount = { login: 'octocat', id: 583231, type: 'User' };

export type RouteName =
  | 'issues/list-comments'
  | 'issues/create-comment'
  | 'issues/update-comment'
  | 'pulls/list'
  | 'repos/get'
  | 'repos/get-content'
  | 'repos/create-or-update-file-contents'
  | 'git/get-ref'
  | 'git/create-ref'
  | 'git/create-tree'
  | 'git/create-commit'
  | 'git/get-blob'
  | 'git/get-tree'
  | 'users/get-authenticated'
  | 'graphql';

export interface RecordedRequest {
  route: RouteName | 'unknown';
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  status: number;
  response: unknown;
}

export interface Fault {
  /** How many of the next requests to the route get this answer (default 1). */
  times?: number;
  message?: string;
  /** Sent as `retry-after`, as GitHub does on secondary rate limits. */
  retryAfterSeconds?: number;
}

export interface GitHubFakeOptions {
  owner?: string;
  repo?: string;
  token?: string;
  /** The token's identity. A Bot is an installation token: `GET /user` answers 403. */
  account?: FakeAccount;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface ParsedRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

interface Route {
  name: RouteName;
  method: string;
  /** The path as GitHub's OpenAPI description writes it; undefined for GraphQL. */
  template?: string;
  pattern: RegExp;
  handle(request: ParsedRequest): Reply;
}

interface StoredComment {
  id: number;
  issueNumber: number;
  body: string;
  author: FakeAccount;
  createdAt: string;
  updatedAt: string;
}

/** A pull request as a test sets it up; `headRepository` is `owner/name`, a fork's or this repo's. */
export interface FakePullRequest {
  number: number;
  headSha: string;
  headRef?: string;
  headRepository?: string;
  state?: 'open' | 'closed';
}

interface StoredPullRequest extends Required<FakePullRequest> {
  id: number;
  createdAt: string;
}

interface Commit {
  tree: string;
  parents: string[];
  message: string;
  date: string;
}

const DOCS = 'https://docs.github.com/rest';
const FILE_CONTENT_LIMIT = 1024 * 1024;
const BLOB_LIMIT = 100 * 1024 * 1024;
const COMMENT_LIMIT = 65_536;

const sha1 = (data: string | Buffer): string => createHash('sha1').update(data).digest('hex');
/** Git's own blob id, so shas look and behave like GitHub's. */
const blobSha = (content: Buffer): string => sha1(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]));
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function templatePattern(template: string): RegExp {
  const source = template.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'path' || name === 'ref' ? `(?<${name}>.+)` : `(?<${name}>[^/]+)`,
  );
  return new RegExp(`^${source}$`);
}

/** The URLs every repository object carries, after the repository's API URL. */
const REPOSITORY_URL_SUFFIXES: Record<string, string> = {
  archive_url: '/{archive_format}{/ref}',
  assignees_url: '/assignees{/user}',
  blobs_url: '/git/blobs{/sha}',
  branches_url: '/branches{/branch}',
  collaborators_url: '/collaborators{/collaborator}',
  comments_url: '/comments{/number}',
  commits_url: '/commits{/sha}',
  compare_url: '/compare/{base}...{head}',
  contents_url: '/contents/{+path}',
  git_commits_url: '/git/commits{/sha}',
  git_refs_url: '/git/refs{/sha}',
  git_tags_url: '/git/tags{/sha}',
  issue_comment_url: '/issues/comments{/number}',
  issue_events_url: '/issues/events{/number}',
  issues_url: '/issues{/number}',
  keys_url: '/keys{/key_id}',
  labels_url: '/labels{/name}',
  milestones_url: '/milestones{/number}',
  notifications_url: '/notifications{?since,all,participating}',
  pulls_url: '/pulls{/number}',
  releases_url: '/releases{/id}',
  statuses_url: '/statuses/{sha}',
  trees_url: '/git/trees{/sha}',
  contributors_url: '/contributors',
  deployments_url: '/deployments',
  downloads_url: '/downloads',
  events_url: '/events',
  forks_url: '/forks',
  hooks_url: '/hooks',
  languages_url: '/languages',
  merges_url: '/merges',
  stargazers_url: '/stargazers',
  subscribers_url: '/subscribers',
  subscription_url: '/subscription',
  tags_url: '/tags',
  teams_url: '/teams',
};

const error = (status: number, message: string, documentation = DOCS): Reply => ({
  status,
  body: { message, documentation_url: documentation, status: String(status) },
});

export class GitHubFake {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  readonly owner: string;
  readonly repo: string;
  readonly token: string;
  readonly account: FakeAccount;
  readonly defaultBranch = 'main';

  private server: Server | undefined;
  private base = '';
  private nextCommentId = 1_000_000;
  private readonly commentStore: StoredComment[] = [];
  private readonly pullStore: StoredPullRequest[] = [];
  private readonly faults = new Map<RouteName, { status: number; fault: Fault; left: number }>();
  private pendingConflict: { change: (current: string | undefined) => string; left: number } | undefined;
  private readonly blobs = new Map<string, Buffer>();
  /** Trees are flat here: full path → blob sha. Enough for files the contents API writes. */
  private readonly trees = new Map<string, Map<string, string>>();
  private readonly commits = new Map<string, Commit>();
  private readonly refs = new Map<string, string>();
  private readonly routes: Route[];

  private constructor(options: GitHubFakeOptions) {
    this.owner = options.owner ?? 'acme';
    this.repo = options.repo ?? 'shop';
    this.token = options.token ?? 'ghs_fakeJobToken0123456789';
    this.account = options.account ?? ACTIONS_BOT;
    const readme = this.storeTree(new Map([['README.md', this.storeBlob(Buffer.from('# shop\n'))]]));
    this.refs.set(
      `refs/heads/${this.defaultBranch}`,
      this.storeCommit({ tree: readme, parents: [], message: 'Initial commit', date: now() }),
    );
    this.routes = this.defineRoutes();
  }

  static async start(options: GitHubFakeOptions = {}): Promise<GitHubFake> {
    const fake = new GitHubFake(options);
    operationId('GET', '/user'); // parse the 13 MB description before the first timed request
    fake.server = createServer((request, response) => void fake.serve(request, response));
    await new Promise<void>((resolve) => fake.server!.listen(0, '127.0.0.1', resolve));
    fake.base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The API base URL, what `GITHUB_API_URL` holds on a runner. */
  get url(): string {
    return this.base;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** The next `times` requests to `route` answer `status` instead of being served. */
  failNext(route: RouteName, status: 403 | 422 | 429 | 500 | 502 | 503, fault: Fault = {}): void {
    this.faults.set(route, { status, fault, left: fault.times ?? 1 });
  }

  /**
   * Another writer commits `change(current text)` to the same file just before each of the next
   * `times` contents PUTs is served, so they carry a stale sha (or none) and are refused as
   * GitHub refuses them.
   */
  conflictOnNextPut(change: (current: string | undefined) => string, times = 1): void {
    this.pendingConflict = { change, left: times };
  }

  addComment(issueNumber: number, body: string, author: FakeAccount = this.account): number {
    const time = now();
    const comment = { id: this.nextCommentId++, issueNumber, body, author, createdAt: time, updatedAt: time };
    this.commentStore.push(comment);
    return comment.id;
  }

  addPullRequest(pull: FakePullRequest): void {
    this.pullStore.push({
      headRef: `feature-${pull.number}`,
      headRepository: `${this.owner}/${this.repo}`,
      state: 'open',
      ...pull,
      id: 1_800_000_000 + pull.number,
      createdAt: now(),
    });
  }

  /** The id GitHub would give a repository, stable per name: what `head_repository.id` carries. */
  repositoryId(fullName: string): number {
    return fullName === `${this.owner}/${this.repo}` ? 1_296_269 : 7_000_000 + (parseInt(sha1(fullName).slice(0, 6), 16) % 1_000_000);
  }

  comments(issueNumber: number): { id: number; body: string; login: string }[] {
    return this.commentStore.filter((c) => c.issueNumber === issueNumber).map((c) => ({ id: c.id, body: c.body, login: c.author.login }));
  }

  branchExists(branch: string): boolean {
    return this.refs.has(`refs/heads/${branch}`);
  }

  /** A file's text at the branch head; undefined when the branch or the file is missing. */
  fileText(branch: string, path: string): string | undefined {
    const blob = this.fileBlob(branch, path);
    return blob === undefined ? undefined : this.blobs.get(blob)!.toString('utf8');
  }

  /**
   * Commits `text` at `path` on the branch as some other writer would (an older loadgate, say),
   * creating the branch as an orphan when it is missing; nothing is checked or recorded.
   */
  writeFile(branch: string, path: string, text: string): void {
    const ref = `refs/heads/${branch}`;
    if (!this.refs.has(ref)) {
      this.refs.set(ref, this.storeCommit({ tree: this.storeTree(new Map()), parents: [], message: 'orphan', date: now() }));
    }
    this.commitFile(branch, path, Buffer.from(text), `write ${path}`);
  }

  /** Points `branch` at the head of `from`, as `git branch` does: it shares that history. */
  createBranch(branch: string, from: string = this.defaultBranch): void {
    this.refs.set(`refs/heads/${branch}`, this.refs.get(`refs/heads/${from}`)!);
  }

  /** Commits on the branch, newest first (first-parent history). */
  branchHistory(branch: string): string[] {
    const messages: string[] = [];
    for (let sha = this.refs.get(`refs/heads/${branch}`); sha; sha = this.commits.get(sha)!.parents[0]) {
      messages.push(this.commits.get(sha)!.message);
    }
    return messages;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', this.base);
    const route = this.routes.find((r) => r.method === request.method && r.pattern.test(url.pathname));
    const record: RecordedRequest = {
      route: route?.name ?? 'unknown',
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body: undefined,
      status: 0,
      response: undefined,
    };
    this.requests.push(record);

    let reply: Reply;
    try {
      record.body = raw === '' ? undefined : JSON.parse(raw);
      reply = this.answer(route, request, url, record.body);
    } catch (problem) {
      this.violations.push(`${request.method} ${url.pathname}: ${(problem as Error).message}`);
      reply = error(500, `fake: ${(problem as Error).message}`);
    }
    record.status = reply.status;
    record.response = reply.body;
    response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
    response.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
  }

  private answer(route: Route | undefined, request: IncomingMessage, url: URL, body: unknown): Reply {
    const where = `${request.method} ${url.pathname}`;
    if (!route) {
      this.violations.push(`${where}: no such route in the fake`);
      return error(404, 'Not Found');
    }
    const authorization = request.headers.authorization ?? '';
    if (authorization !== `token ${this.token}` && authorization !== `Bearer ${this.token}`) return error(401, 'Bad credentials');

    const pending = this.faults.get(route.name);
    if (pending && pending.left > 0) {
      pending.left -= 1;
      const reply =
        pending.status === 422
          ? this.validationFailed(pending.fault.message ?? 'Validation Failed')
          : error(pending.status, pending.fault.message ?? 'fault injected by the test');
      if (pending.fault.retryAfterSeconds !== undefined) reply.headers = { 'retry-after': String(pending.fault.retryAfterSeconds) };
      return this.checked(route, where, reply);
    }

    const params = Object.fromEntries(
      Object.entries(route.pattern.exec(url.pathname)?.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
    );
    if (route.template) {
      const problems = requestProblems(route.method, route.template, url.searchParams, body);
      if (problems.length > 0) {
        this.violations.push(`${where} request: ${problems.join('; ')}`);
        return error(500, `fake: request does not match GitHub's description: ${problems[0]}`);
      }
      if ('owner' in params && (params.owner !== this.owner || params.repo !== this.repo))
        return this.checked(route, where, error(404, 'Not Found'));
    }
    return this.checked(route, where, route.handle({ params, query: url.searchParams, body }));
  }

  private checked(route: Route, where: string, reply: Reply): Reply {
    if (!route.template) return reply;
    const problems = responseProblems(route.method, route.template, reply.status, reply.body);
    if (problems.length === 0) return reply;
    this.violations.push(`${where} response ${reply.status}: ${problems.join('; ')}`);
    return error(500, `fake: response does not match GitHub's description: ${problems[0]}`);
  }

  private validationFailed(message: string, field?: { resource: string; field: string; code: string }): Reply {
    return {
      status: 422,
      body: { message, documentation_url: DOCS, ...(field ? { errors: [{ ...field, message }] } : {}) },
    };
  }

  private defineRoutes(): Route[] {
    const route = (name: RouteName, method: string, template: string, handle: Route['handle']): Route => ({
      name,
      method,
      template,
      pattern: templatePattern(template),
      handle,
    });
    return [
      route('issues/list-comments', 'GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', (r) => this.listComments(r)),
      route('issues/create-comment', 'POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', (r) => this.createComment(r)),
      route('issues/update-comment', 'PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', (r) => this.updateComment(r)),
      route('pulls/list', 'GET', '/repos/{owner}/{repo}/pulls', (r) => this.listPullRequests(r)),
      route('repos/get', 'GET', '/repos/{owner}/{repo}', () => ({
        status: 200,
        body: { ...this.repositoryJson(`${this.owner}/${this.repo}`), has_discussions: false, network_count: 0, subscribers_count: 0 },
      })),
      route('repos/get-content', 'GET', '/repos/{owner}/{repo}/contents/{path}', (r) => this.getContent(r)),
      route('repos/create-or-update-file-contents', 'PUT', '/repos/{owner}/{repo}/contents/{path}', (r) => this.putContent(r)),
      route('git/get-ref', 'GET', '/repos/{owner}/{repo}/git/ref/{ref}', (r) => this.getRef(r)),
      route('git/create-ref', 'POST', '/repos/{owner}/{repo}/git/refs', (r) => this.createRef(r)),
      route('git/create-tree', 'POST', '/repos/{owner}/{repo}/git/trees', (r) => this.createTree(r)),
      route('git/create-commit', 'POST', '/repos/{owner}/{repo}/git/commits', (r) => this.createCommit(r)),
      route('git/get-blob', 'GET', '/repos/{owner}/{repo}/git/blobs/{file_sha}', (r) => this.getBlob(r)),
      route('git/get-tree', 'GET', '/repos/{owner}/{repo}/git/trees/{tree_sha}', (r) => this.getTree(r)),
      route('users/get-authenticated', 'GET', '/user', () =>
        this.account.type === 'Bot'
          ? error(403, 'Resource not accessible by integration', `${DOCS}/users/users#get-the-authenticated-user`)
          : {
              status: 200,
              body: {
                ...this.user(this.account),
                user_view_type: 'public',
                name: null,
                company: null,
                blog: '',
                location: null,
                email: null,
                hireable: null,
                bio: null,
                public_repos: 1,
                public_gists: 0,
                followers: 0,
                following: 0,
                created_at: '2011-01-25T18:44:36Z',
                updated_at: now(),
              },
            },
      ),
      { name: 'graphql', method: 'POST', pattern: /^\/graphql$/, handle: (r) => this.graphql(r) },
    ];
  }

  // --- issue comments -------------------------------------------------------------------------

  private user(account: FakeAccount): Record<string, unknown> {
    const api = `${this.base}/users/${encodeURIComponent(account.login)}`;
    return {
      login: account.login,
      id: account.id,
      node_id: `U_${account.id}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${account.id}?v=4`,
      gravatar_id: '',
      url: api,
      html_url: `https://github.com/${encodeURIComponent(account.login)}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type: account.type,
      site_admin: false,
    };
  }

  private commentJson(comment: StoredComment): Record<string, unknown> {
    const repoApi = `${this.base}/repos/${this.owner}/${this.repo}`;
    return {
      id: comment.id,
      node_id: `IC_${comment.id}`,
      url: `${repoApi}/issues/comments/${comment.id}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${repoApi}/issues/${comment.issueNumber}`,
      body: comment.body,
      user: this.user(comment.author),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: comment.author.type === 'Bot' ? 'NONE' : 'MEMBER',
    };
  }

  private listComments({ params, query }: ParsedRequest): Reply {
    const issue = Number(params.issue_number);
    const all = this.commentStore.filter((c) => c.issueNumber === issue);
    return this.page(`/repos/${this.owner}/${this.repo}/issues/${issue}/comments`, query, all, (c) => this.commentJson(c));
  }

  /** One page of `all`, with the `link` header GitHub sends (next/last, first/prev). */
  private page<T>(
    path: string,
    query: URLSearchParams,
    all: readonly T[],
    json: (item: T) => unknown,
    keep: Record<string, string> = {},
  ): Reply {
    const perPage = Math.min(Number(query.get('per_page') ?? 30), 100);
    const page = Number(query.get('page') ?? 1);
    const pages = Math.max(1, Math.ceil(all.length / perPage));
    const link = (n: number, rel: string): string => {
      const target = new URL(`${this.base}${path}`);
      for (const [name, value] of Object.entries(keep)) target.searchParams.set(name, value);
      target.searchParams.set('per_page', String(perPage));
      target.searchParams.set('page', String(n));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links = [
      ...(page < pages ? [link(page + 1, 'next'), link(pages, 'last')] : []),
      ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
    ];
    return {
      status: 200,
      body: all.slice((page - 1) * perPage, page * perPage).map(json),
      headers: links.length > 0 ? { link: links.join(', ') } : {},
    };
  }

  private commentBodyProblem(body: string): Reply | undefined {
    if (body.length <= COMMENT_LIMIT) return undefined;
    return this.validationFailed(`Body is too long (maximum is ${COMMENT_LIMIT} characters)`, {
      resource: 'IssueComment',
      field: 'body',
      code: 'custom',
    });
  }

  private createComment({ params, body }: ParsedRequest): Reply {
    const text = (body as { body: string }).body;
    const refused = this.commentBodyProblem(text);
    if (refused) return refused;
    const id = this.addComment(Number(params.issue_number), text);
    return { status: 201, body: this.commentJson(this.commentStore.find((c) => c.id === id)!) };
  }

  private updateComment({ params, body }: ParsedRequest): Reply {
    const comment = this.commentStore.find((c) => c.id === Number(params.comment_id));
    if (!comment) return error(404, 'Not Found');
    if (comment.author.login !== this.account.login) return error(403, 'Resource not accessible by integration');
    const text = (body as { body: string }).body;
    const refused = this.commentBodyProblem(text);
    if (refused) return refused;
    comment.body = text;
    comment.updatedAt = now();
    return { status: 200, body: this.commentJson(comment) };
  }

  // --- pull requests ---------------------------------------------------------------------------

  private listPullRequests({ query }: ParsedRequest): Reply {
    const unsupported = ['head', 'base', 'sort', 'direction'].filter((name) => query.has(name));
    if (unsupported.length > 0) throw new Error(`this fake does not filter pulls by ${unsupported.join(', ')}`);
    const state = query.get('state') ?? 'open';
    // GitHub lists the newest first (sort=created, direction=desc).
    const all = this.pullStore.filter((pull) => state === 'all' || pull.state === state).toSorted((a, b) => b.number - a.number);
    return this.page(`/repos/${this.owner}/${this.repo}/pulls`, query, all, (pull) => this.pullJson(pull), { state });
  }

  private repositoryJson(fullName: string): Record<string, unknown> {
    const [owner, name] = fullName.split('/');
    const api = `${this.base}/repos/${fullName}`;
    const html = `https://github.com/${fullName}`;
    const fork = fullName !== `${this.owner}/${this.repo}`;
    const time = '2024-03-01T09:00:00Z';
    const templated = Object.fromEntries(Object.entries(REPOSITORY_URL_SUFFIXES).map(([key, suffix]) => [key, `${api}${suffix}`]));
    return {
      id: this.repositoryId(fullName),
      node_id: `R_${this.repositoryId(fullName)}`,
      name,
      full_name: fullName,
      owner: this.user({ login: owner, id: this.repositoryId(owner), type: 'User' }),
      private: false,
      html_url: html,
      description: null,
      fork,
      url: api,
      ...templated,
      git_url: `git://github.com/${fullName}.git`,
      ssh_url: `git@github.com:${fullName}.git`,
      clone_url: `${html}.git`,
      svn_url: html,
      mirror_url: null,
      homepage: null,
      language: 'TypeScript',
      forks: 0,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      watchers: 0,
      size: 120,
      default_branch: this.defaultBranch,
      open_issues: 0,
      open_issues_count: 0,
      has_issues: !fork,
      has_projects: true,
      has_wiki: true,
      has_pages: false,
      has_downloads: true,
      archived: false,
      disabled: false,
      license: null,
      pushed_at: time,
      created_at: time,
      updated_at: time,
    };
  }

  private pullJson(pull: StoredPullRequest): Record<string, unknown> {
    const api = `${this.base}/repos/${this.owner}/${this.repo}`;
    const html = `https://github.com/${this.owner}/${this.repo}/pull/${pull.number}`;
    const accountOf = (repository: string): FakeAccount => {
      const login = repository.split('/')[0];
      return { login, id: this.repositoryId(login), type: 'User' };
    };
    const end = (sha: string, ref: string, repository: string) => ({
      label: `${repository.split('/')[0]}:${ref}`,
      ref,
      sha,
      repo: this.repositoryJson(repository),
      user: this.user(accountOf(repository)),
    });
    return {
      url: `${api}/pulls/${pull.number}`,
      id: pull.id,
      node_id: `PR_${pull.id}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${pull.number}`,
      commits_url: `${api}/pulls/${pull.number}/commits`,
      review_comments_url: `${api}/pulls/${pull.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${pull.number}/comments`,
      statuses_url: `${api}/statuses/${pull.headSha}`,
      number: pull.number,
      state: pull.state,
      locked: false,
      title: `Change ${pull.number}`,
      user: this.user(accountOf(pull.headRepository)),
      body: null,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: pull.createdAt,
      updated_at: pull.createdAt,
      closed_at: pull.state === 'closed' ? pull.createdAt : null,
      merged_at: null,
      merge_commit_sha: sha1(`merge ${pull.number} ${pull.headSha}`),
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: end(pull.headSha, pull.headRef, pull.headRepository),
      base: end(this.refs.get(`refs/heads/${this.defaultBranch}`)!, this.defaultBranch, `${this.owner}/${this.repo}`),
      _links: Object.fromEntries(
        Object.entries({
          self: `${api}/pulls/${pull.number}`,
          html,
          issue: `${api}/issues/${pull.number}`,
          comments: `${api}/issues/${pull.number}/comments`,
          review_comments: `${api}/pulls/${pull.number}/comments`,
          review_comment: `${api}/pulls/comments{/number}`,
          commits: `${api}/pulls/${pull.number}/commits`,
          statuses: `${api}/statuses/${pull.headSha}`,
        }).map(([rel, href]) => [rel, { href }]),
      ),
      author_association: pull.headRepository === `${this.owner}/${this.repo}` ? 'MEMBER' : 'CONTRIBUTOR',
      auto_merge: null,
      draft: false,
    };
  }

  // --- git data and contents ------------------------------------------------------------------

  private storeBlob(content: Buffer): string {
    const sha = blobSha(content);
    this.blobs.set(sha, content);
    return sha;
  }

  private storeTree(entries: Map<string, string>): string {
    const sha = sha1(JSON.stringify([...entries].sort()));
    this.trees.set(sha, entries);
    return sha;
  }

  private storeCommit(commit: Commit): string {
    const sha = sha1(JSON.stringify(commit) + this.commits.size);
    this.commits.set(sha, commit);
    return sha;
  }

  private fileBlob(branch: string, path: string): string | undefined {
    const head = this.refs.get(`refs/heads/${branch}`);
    return head === undefined ? undefined : this.trees.get(this.commits.get(head)!.tree)!.get(path);
  }

  /** Commits one file change on top of the branch head, as the contents API does. */
  private commitFile(branch: string, path: string, content: Buffer, message: string): { blob: string; commit: string } {
    const ref = `refs/heads/${branch}`;
    const parent = this.refs.get(ref)!;
    const entries = new Map(this.trees.get(this.commits.get(parent)!.tree)!);
    const blob = this.storeBlob(content);
    entries.set(path, blob);
    const commit = this.storeCommit({ tree: this.storeTree(entries), parents: [parent], message, date: now() });
    this.refs.set(ref, commit);
    return { blob, commit };
  }

  private contentUrls(path: string, branch: string, blob: string): Record<string, string> {
    const self = `${this.base}/repos/${this.owner}/${this.repo}/contents/${path}?ref=${encodeURIComponent(branch)}`;
    const git = `${this.base}/repos/${this.owner}/${this.repo}/git/blobs/${blob}`;
    const html = `https://github.com/${this.owner}/${this.repo}/blob/${branch}/${path}`;
    return {
      url: self,
      git_url: git,
      html_url: html,
      download_url: `https://raw.githubusercontent.com/${this.owner}/${this.repo}/${branch}/${path}`,
    };
  }

  private getContent({ params, query }: ParsedRequest): Reply {
    const branch = query.get('ref') ?? this.defaultBranch;
    if (!this.branchExists(branch))
      return error(404, `No commit found for the ref ${branch}`, `${DOCS}/repos/contents#get-repository-content`);
    const blob = this.fileBlob(branch, params.path);
    if (blob === undefined) return error(404, 'Not Found', `${DOCS}/repos/contents#get-repository-content`);
    const content = this.blobs.get(blob)!;
    const urls = this.contentUrls(params.path, branch, blob);
    // GitHub wraps base64 at 60 characters and stops inlining content past 1 MB.
    const inline = content.length <= FILE_CONTENT_LIMIT;
    return {
      status: 200,
      body: {
        type: 'file',
        encoding: inline ? 'base64' : 'none',
        size: content.length,
        name: params.path.split('/').pop(),
        path: params.path,
        content: inline ? `${(content.toString('base64').match(/.{1,60}/g) ?? []).join('\n')}\n` : '',
        sha: blob,
        ...urls,
        _links: { self: urls.url, git: urls.git_url, html: urls.html_url },
      },
    };
  }

  private putContent({ params, body }: ParsedRequest): Reply {
    const request = body as { message: string; content: string; sha?: string; branch?: string };
    const branch = request.branch ?? this.defaultBranch;
    if (!this.branchExists(branch))
      return error(404, `Branch ${branch} not found`, `${DOCS}/repos/contents#create-or-update-file-contents`);
    if (this.pendingConflict && this.pendingConflict.left > 0) {
      this.pendingConflict.left -= 1;
      this.commitFile(branch, params.path, Buffer.from(this.pendingConflict.change(this.fileText(branch, params.path))), 'another writer');
    }
    if (!/^[A-Za-z0-9+/\n]*={0,2}\n?$/.test(request.content)) return this.validationFailed('content is not valid Base64');
    const current = this.fileBlob(branch, params.path);
    if (current !== undefined && request.sha === undefined) return this.validationFailed(`Invalid request.\n\n"sha" wasn't supplied.`);
    if (request.sha !== undefined && request.sha !== current) {
      return error(409, `${params.path} does not match ${request.sha}`, `${DOCS}/repos/contents#create-or-update-file-contents`);
    }
    const { blob, commit } = this.commitFile(branch, params.path, Buffer.from(request.content, 'base64'), request.message);
    const urls = this.contentUrls(params.path, branch, blob);
    return {
      status: current === undefined ? 201 : 200,
      body: {
        content: {
          name: params.path.split('/').pop(),
          path: params.path,
          sha: blob,
          size: this.blobs.get(blob)!.length,
          type: 'file',
          ...urls,
          _links: { self: urls.url, git: urls.git_url, html: urls.html_url },
        },
        commit: this.commitJson(commit),
      },
    };
  }

  private commitJson(sha: string): Record<string, unknown> {
    const commit = this.commits.get(sha)!;
    const repoApi = `${this.base}/repos/${this.owner}/${this.repo}`;
    const person = { name: 'GitHub', email: 'noreply@github.com', date: commit.date };
    return {
      sha,
      node_id: `C_${sha}`,
      url: `${repoApi}/git/commits/${sha}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/commit/${sha}`,
      author: person,
      committer: person,
      message: commit.message,
      tree: { sha: commit.tree, url: `${repoApi}/git/trees/${commit.tree}` },
      parents: commit.parents.map((parent) => ({
        sha: parent,
        url: `${repoApi}/git/commits/${parent}`,
        html_url: `https://github.com/${this.owner}/${this.repo}/commit/${parent}`,
      })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  private refJson(ref: string): Record<string, unknown> {
    const sha = this.refs.get(ref)!;
    const repoApi = `${this.base}/repos/${this.owner}/${this.repo}`;
    return {
      ref,
      node_id: `REF_${sha1(ref)}`,
      url: `${repoApi}/git/${ref}`,
      object: { type: 'commit', sha, url: `${repoApi}/git/commits/${sha}` },
    };
  }

  private getRef({ params }: ParsedRequest): Reply {
    const ref = `refs/${params.ref}`;
    return this.refs.has(ref) ? { status: 200, body: this.refJson(ref) } : error(404, 'Not Found', `${DOCS}/git/refs#get-a-reference`);
  }

  private createRef({ body }: ParsedRequest): Reply {
    const { ref, sha } = body as { ref: string; sha: string };
    if (!/^refs\/[^/]+\/.+/.test(ref)) return this.validationFailed(`${ref} is not a valid ref name.`);
    if (this.refs.has(ref)) return this.validationFailed('Reference already exists');
    if (!this.commits.has(sha)) return this.validationFailed('Object does not exist');
    this.refs.set(ref, sha);
    return { status: 201, body: this.refJson(ref) };
  }

  private createTree({ body }: ParsedRequest): Reply {
    const request = body as {
      tree: { path: string; mode: string; type: string; sha?: string | null; content?: string }[];
      base_tree?: string;
    };
    const entries = new Map(request.base_tree ? this.trees.get(request.base_tree) : undefined);
    for (const entry of request.tree) {
      if (entry.type !== 'blob' || (entry.content === undefined) === (entry.sha === undefined)) {
        return this.validationFailed('this fake supports blob entries with either content or sha');
      }
      if (entry.sha === null) entries.delete(entry.path);
      else entries.set(entry.path, entry.content !== undefined ? this.storeBlob(Buffer.from(entry.content)) : entry.sha!);
    }
    return { status: 201, body: this.treeJson(this.storeTree(entries), false) };
  }

  /**
   * A tree as GitHub lists it: its top level, or with `recursive` every file and folder below it.
   * Trees are flat here, so a folder's sha names its listing and cannot be fetched on its own.
   */
  private treeJson(sha: string, recursive: boolean): Record<string, unknown> {
    const repoApi = `${this.base}/repos/${this.owner}/${this.repo}`;
    const files = [...this.trees.get(sha)!];
    const folders = new Set(
      files.flatMap(([path]) =>
        path
          .split('/')
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
      ),
    );
    const entries = [
      ...[...folders].map((path) => {
        const folder = sha1(JSON.stringify(files.filter(([file]) => file.startsWith(`${path}/`)).sort()));
        return { path, mode: '040000', type: 'tree', sha: folder, url: `${repoApi}/git/trees/${folder}` };
      }),
      ...files.map(([path, blob]) => ({
        path,
        mode: '100644',
        type: 'blob',
        sha: blob,
        size: this.blobs.get(blob)?.length ?? 0,
        url: `${repoApi}/git/blobs/${blob}`,
      })),
    ];
    // Git's order: by bytes, a folder as if its name ended in `/`.
    const key = (entry: { path: string; type: string }) => Buffer.from(entry.type === 'tree' ? `${entry.path}/` : entry.path);
    return {
      sha,
      url: `${repoApi}/git/trees/${sha}`,
      truncated: false,
      tree: entries.filter((entry) => recursive || !entry.path.includes('/')).sort((a, b) => Buffer.compare(key(a), key(b))),
    };
  }

  /** `tree_sha` may name a tree, a commit (its tree) or a branch, as on GitHub. */
  private getTree({ params, query }: ParsedRequest): Reply {
    const named = params.tree_sha;
    const commit = this.commits.get(named) ?? this.commits.get(this.refs.get(`refs/heads/${named}`) ?? '');
    const sha = this.trees.has(named) ? named : commit?.tree;
    if (sha === undefined) return error(404, 'Not Found', `${DOCS}/git/trees#get-a-tree`);
    return { status: 200, body: this.treeJson(sha, query.has('recursive')) };
  }

  /** Base64 wrapped like the contents API's, whatever the size up to the documented 100 MB. */
  private getBlob({ params }: ParsedRequest): Reply {
    const content = this.blobs.get(params.file_sha);
    const documentation = `${DOCS}/git/blobs#get-a-blob`;
    if (content === undefined) return error(404, 'Not Found', documentation);
    if (content.length > BLOB_LIMIT) return error(403, 'This API returns blobs up to 100 MB in size.', documentation);
    return {
      status: 200,
      body: {
        sha: params.file_sha,
        node_id: `B_${params.file_sha}`,
        size: content.length,
        url: `${this.base}/repos/${this.owner}/${this.repo}/git/blobs/${params.file_sha}`,
        content: `${(content.toString('base64').match(/.{1,60}/g) ?? []).join('\n')}\n`,
        encoding: 'base64',
      },
    };
  }

  private createCommit({ body }: ParsedRequest): Reply {
    const request = body as { message: string; tree: string; parents?: string[] };
    if (!this.trees.has(request.tree)) return this.validationFailed('Tree SHA does not exist');
    const parents = request.parents ?? [];
    if (parents.some((parent) => !this.commits.has(parent)))
      return this.validationFailed('Parent SHA does not exist or is not a commit object');
    const sha = this.storeCommit({ tree: request.tree, parents, message: request.message, date: now() });
    return { status: 201, body: this.commitJson(sha) };
  }

  // --- GraphQL (not in the REST description: checked by hand) ---------------------------------

  private graphql({ body }: ParsedRequest): Reply {
    const query = (body as { query?: unknown } | undefined)?.query;
    if (typeof query !== 'string' || !/viewer\s*\{\s*login\s*\}/.test(query)) {
      this.violations.push(`POST /graphql: this fake answers only \`viewer { login }\`, got ${JSON.stringify(body)}`);
      return { status: 200, body: { errors: [{ message: 'unsupported query' }] } };
    }
    return { status: 200, body: { data: { viewer: { login: this.account.login } } } };
  }
}
