// Baseline histories on a branch of the repository, one file per baseline key, read and written
// through the contents API with the job's token (no checkout). Every write names the sha it
// replaces; when another run wrote first, the file is re-read and this run appended again, so
// runs finishing together all land. Before the first read or write the branch is checked to be
// loadgate's own: not the default branch, and holding only files loadgate writes.

import { createHash } from 'node:crypto';
import { githubMessage, httpStatus, type GitHubClient } from '../github/client.ts';
import type { Log } from '../log.ts';
import { appendRun, capEveryKey, emptyDocument, parseDocument, serializeDocument, type BaselineDocument } from './history.ts';
import type { BaselineStore } from './store.ts';

export interface BranchStoreOptions {
  github: GitHubClient;
  owner: string;
  repo: string;
  branch: string;
  log: Log;
  /** Writes tried before giving up when other runs keep writing the same file (default 5). */
  maxAttempts?: number;
}

const BRANCH_README = `# loadgate baseline

Latency history written by the loadgate action, one JSON file per baseline key under
\`loadgate/\`. Kept on its own branch so that recording a run never touches your code.
`;

/** Git's id of the README loadgate starts its branch with: the only file there besides the histories. */
const BRANCH_README_BLOB = createHash('sha1')
  .update(`blob ${Buffer.byteLength(BRANCH_README)}\0${BRANCH_README}`)
  .digest('hex');
const HISTORY_FILE = /^loadgate\/[^/]+\.json$/;
/** Foreign files named in the refusal; the rest are counted. */
const FOREIGN_FILES_NAMED = 3;

/** `loadgate/<key>.json`; keys with other characters get a readable slug plus a hash, so two keys never share a file. */
export function baselineFilePath(key: string): string {
  const slug = key.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  if (slug === key && slug !== '') return `loadgate/${key}.json`;
  return `loadgate/${slug || 'key'}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}.json`;
}

interface StoredFile {
  document: BaselineDocument;
  sha: string;
}

export function createBranchStore({ github, owner, repo, branch, log, maxAttempts = 5 }: BranchStoreOptions): BaselineStore {
  const where = (path: string): string => `${path} on branch ${branch} of ${owner}/${repo}`;

  function refused(action: string, error: unknown, permission: string): Error {
    return new Error(
      `${action} the baseline on branch ${branch} of ${owner}/${repo} was refused (${httpStatus(error)}: ${githubMessage(error)}): ` +
        `the job needs \`permissions: ${permission}\`. Pull request runs only read the baseline; give \`contents: write\` to the workflow that runs on the default branch.`,
    );
  }

  async function readFile(path: string): Promise<StoredFile | undefined> {
    let data: Awaited<ReturnType<typeof github.rest.repos.getContent>>['data'];
    try {
      ({ data } = await reading(() => github.rest.repos.getContent({ owner, repo, path, ref: branch })));
    } catch (error) {
      // 404 covers both a missing branch and a missing file: no baseline yet.
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) throw new Error(`${where(path)} is not a file.`);
    // Past 1 MB the contents API answers `encoding: none` and no content (older versions wrote
    // such files): the blobs API serves the same sha up to 100 MB.
    const content = data.encoding === 'base64' ? data.content : await readBlob(path, data.sha);
    return { document: parseDocument(Buffer.from(content, 'base64').toString('utf8'), where(path)), sha: data.sha };
  }

  async function readBlob(path: string, sha: string): Promise<string> {
    let data: Awaited<ReturnType<typeof github.rest.git.getBlob>>['data'];
    try {
      ({ data } = await github.rest.git.getBlob({ owner, repo, file_sha: sha }));
    } catch (error) {
      if (httpStatus(error) === 403) throw refused('Reading', error, 'contents: read');
      const status = httpStatus(error) ?? 'no answer';
      throw new Error(`Reading ${where(path)} through the blobs API failed (${status}: ${githubMessage(error)}); it was left untouched.`);
    }
    if (data.encoding !== 'base64') {
      throw new Error(`The blobs API sent ${where(path)} as ${JSON.stringify(data.encoding)}, not base64; it was left untouched.`);
    }
    return data.content;
  }

  /**
   * Refuses a branch loadgate would commit into someone else's history on: the default branch, or
   * one holding files loadgate does not write. The files, not the commits, decide: one listing
   * however long the history, no trust in commit messages or authors (other automation commits as
   * github-actions[bot] too), and a user who deleted a key's file by hand is not refused.
   */
  async function checkBranch(): Promise<void> {
    const input = `input \`baseline-branch\`: ${branch}`;
    const ownBranch =
      'it must be a branch of its own, such as `loadgate-baseline` (the default), which loadgate creates as an orphan branch';
    const { data: repository } = await reading(() => github.rest.repos.get({ owner, repo }));
    if (repository.default_branch === branch) {
      throw new Error(`${input} is the default branch of ${owner}/${repo}, and loadgate commits its history there: ${ownBranch}.`);
    }
    const head = await branchHead();
    if (head === undefined) return; // ensureBranch creates it as an orphan
    const { data: tree } = await reading(() => github.rest.git.getTree({ owner, repo, tree_sha: head, recursive: 'true' }));
    const foreign = tree.tree
      .filter((entry) => entry.type !== 'tree')
      .filter((entry) => !(HISTORY_FILE.test(entry.path) || (entry.path === 'README.md' && entry.sha === BRANCH_README_BLOB)))
      .map((entry) => entry.path);
    if (foreign.length === 0 && !tree.truncated) return;
    const named = foreign.slice(0, FOREIGN_FILES_NAMED).map((path) => JSON.stringify(path));
    const more = tree.truncated ? 'and more' : foreign.length > named.length ? `and ${foreign.length - named.length} more` : '';
    throw new Error(
      `${input} of ${owner}/${repo} holds files loadgate does not write (${[...named, more].filter(Boolean).join(', ')}), ` +
        `and loadgate commits its history there: ${ownBranch} holding only its README.md and loadgate/*.json.`,
    );
  }

  /** A read the job's token may be refused: named as a missing permission. */
  async function reading<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (httpStatus(error) === 403) throw refused('Reading', error, 'contents: read');
      throw error;
    }
  }

  /** The branch's head commit; undefined when the branch does not exist yet. */
  async function branchHead(): Promise<string | undefined> {
    try {
      return (await reading(() => github.rest.git.getRef({ owner, repo, ref: `heads/${branch}` }))).data.object.sha;
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  let branchChecked: Promise<void> | undefined;
  const checkedBranch = () => (branchChecked ??= checkBranch());

  /** Creates the branch as an orphan holding only a README, so it never carries a copy of the code. */
  async function ensureBranch(): Promise<void> {
    if ((await branchHead()) !== undefined) return;
    try {
      const tree = await github.rest.git.createTree({
        owner,
        repo,
        tree: [{ path: 'README.md', mode: '100644', type: 'blob', content: BRANCH_README }],
      });
      const commit = await github.rest.git.createCommit({
        owner,
        repo,
        message: 'loadgate: start the baseline branch',
        tree: tree.data.sha,
        parents: [],
      });
      await github.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: commit.data.sha });
      log.info(`Created branch ${branch} for the loadgate baseline.`);
    } catch (error) {
      if (httpStatus(error) === 422 && /already exists/i.test(githubMessage(error))) return; // another run created it first
      if (httpStatus(error) === 403) throw refused('Creating the branch for', error, 'contents: write');
      throw error;
    }
  }

  /** True when the write lost a race: the sha it named is stale, or the file appeared meanwhile. */
  const isConflict = (error: unknown): boolean =>
    httpStatus(error) === 409 || (httpStatus(error) === 422 && /\bsha\b/i.test(githubMessage(error)));

  return {
    location: `branch ${branch}`,

    async read(key) {
      await checkedBranch();
      return (await readFile(baselineFilePath(key)))?.document.histories[key] ?? [];
    },

    async append(key, run) {
      const path = baselineFilePath(key);
      await checkedBranch();
      for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
        const current = await readFile(path);
        if (!current) await ensureBranch();
        // A write GitHub applied but answered with a 5xx (then retried into a conflict) is already there.
        if (
          current?.document.histories[key]?.some((stored) => stored.sha === run.sha && stored.time === run.time && stored.ref === run.ref)
        )
          return;
        // Every key: a file holding others (written by something else) must still fit the contents API.
        const updated = capEveryKey(appendRun(current?.document ?? emptyDocument(), key, run));
        try {
          await github.rest.repos.createOrUpdateFileContents({
            owner,
            repo,
            path,
            branch,
            message: `loadgate: record ${run.sha.slice(0, 12) || 'run'} for ${key}`,
            content: Buffer.from(serializeDocument(updated)).toString('base64'),
            ...(current ? { sha: current.sha } : {}),
          });
          log.info(`Recorded this run in ${where(path)} (${updated.histories[key].length} runs).`);
          return;
        } catch (error) {
          if (httpStatus(error) === 403) throw refused('Writing', error, 'contents: write');
          if (!isConflict(error)) throw error;
          log.info(`Another run wrote ${where(path)} first; re-reading and appending again (attempt ${attempt}/${maxAttempts}).`);
          // Jitter keeps runs that collided from colliding again in lockstep.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 250 * attempt));
        }
      }
      throw new Error(`Could not record this run in ${where(path)}: other runs kept writing it (${maxAttempts} attempts).`);
    },
  };
}
