// The baseline document as a file in the workspace. Written whole and atomically (temp file in
// the same directory, then rename), so a crash mid-write never leaves a truncated history.
// Appends are serialized by a lock file next to the store (`<file>.lock`, created exclusively)
// and re-read inside it, so runs appending at once (several jobs of a self-hosted runner, or
// CLI runs) all land. A document that git tracks in the checkout is warned of: a pull request that
// edits it picks its own baseline.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Log } from '../log.ts';
import { appendRun, emptyDocument, parseDocument, serializeDocument, type BaselineDocument } from './history.ts';
import type { BaselineStore } from './store.ts';

export interface FileStoreOptions {
  /** How long an append waits for another writer's lock before giving up (default 30 s). */
  lockWaitMs?: number;
  /** A lock older than this is a dead writer's, whoever it names (default 60 s; a write takes milliseconds). */
  staleLockMs?: number;
}

/** What a lock file holds: who took it, and a token so that we only ever remove our own. */
interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

const RETRY_MS = 20;

export function createFileStore(
  path: string,
  log: Log,
  { lockWaitMs = 30_000, staleLockMs = 60_000 }: FileStoreOptions = {},
): BaselineStore {
  const absolute = resolve(path);
  const lockPath = `${absolute}.lock`;
  let trackedCheck: Promise<void> | undefined;

  async function warnIfTracked(): Promise<void> {
    if (!(await isTrackedByGit(absolute))) return;
    log.warning(
      `baseline file ${path} is tracked by git in this checkout: a pull request that edits it picks its own baseline, ` +
        'so this gate is only as trustworthy as the pull request. Keep the history outside the checkout ' +
        '(a directory of a self-hosted runner, or restored by actions/cache) or use `baseline-store: branch`.',
    );
  }

  async function load(): Promise<BaselineDocument> {
    trackedCheck ??= warnIfTracked();
    await trackedCheck;
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyDocument();
      throw baselinePathError(path, error);
    }
    return parseDocument(text, `baseline file ${path}`);
  }

  async function lock(): Promise<LockOwner> {
    const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex') };
    const deadline = Date.now() + lockWaitMs;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', 0o644);
        try {
          await handle.writeFile(JSON.stringify(owner));
        } finally {
          await handle.close();
        }
        return owner;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readLock();
      if (holder && (await isStale(holder))) {
        await breakLock(holder.text);
        continue;
      }
      if (Date.now() >= deadline) {
        const who = holder?.owner ? `process ${holder.owner.pid} on ${holder.owner.host}` : 'a writer that did not say who it is';
        throw new Error(
          `Could not record this run in baseline file ${path}: ${lockPath} has been held by ${who} ` +
            `for more than ${Math.round(lockWaitMs / 1000)} s. ` +
            `If no loadgate run is writing that file, remove ${lockPath} (only the lock; the history is untouched) and run again.`,
        );
      }
      // Jitter keeps waiters that retried together from colliding again in lockstep.
      await new Promise((done) => setTimeout(done, RETRY_MS + Math.random() * RETRY_MS));
    }
  }

  async function readLock(): Promise<{ owner: LockOwner | undefined; text: string; ageMs: number } | undefined> {
    try {
      const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
      return { owner: lockOwnerOf(text), text, ageMs: Date.now() - info.mtimeMs };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // released meanwhile
      throw error;
    }
  }

  async function isStale(holder: { owner: LockOwner | undefined; ageMs: number }): Promise<boolean> {
    if (holder.ageMs > staleLockMs) return true;
    // A writer on this machine that is gone left it behind (killed between create and remove).
    return holder.owner !== undefined && holder.owner.host === hostname() && !processExists(holder.owner.pid);
  }

  /**
   * Moves the stale lock aside under a name of our own, so that two waiters breaking it at once
   * cannot both succeed; when what we moved is not the lock we judged (another waiter broke it and
   * a live writer took a new one meanwhile), the live one is put back.
   */
  async function breakLock(judgedText: string): Promise<void> {
    const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await rename(lockPath, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else broke or released it
      throw error;
    }
    if ((await readFile(aside, 'utf8')) !== judgedText) await link(aside, lockPath).catch(() => undefined);
    await rm(aside, { force: true });
  }

  async function unlock(owner: LockOwner): Promise<void> {
    // Only our own: a lock broken as stale while we were slow now belongs to someone else.
    const current = await readLock();
    if (current?.owner?.token === owner.token) await rm(lockPath, { force: true });
  }

  return {
    location: `file ${path}`,
    async read(key) {
      return (await load()).histories[key] ?? [];
    },
    async append(key, run) {
      await mkdir(dirname(absolute), { recursive: true });
      const owner = await lock();
      try {
        const updated = appendRun(await load(), key, run);
        const temporary = `${absolute}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        try {
          // `wx`: a name planted in a shared directory (a symlink) is refused, never written through.
          await writeFile(temporary, serializeDocument(updated), { flag: 'wx' });
          await rename(temporary, absolute);
        } catch (error) {
          await rm(temporary, { force: true });
          throw error;
        }
      } finally {
        await unlock(owner);
      }
    },
  };
}

const execFileAsync = promisify(execFile);

/** Whether git tracks the file in the checkout around it; false outside a checkout or without git. */
async function isTrackedByGit(absolute: string): Promise<boolean> {
  try {
    // No shell; a literal pathspec, so a name such as `:(glob)*` matches only itself.
    await execFileAsync('git', ['--literal-pathspecs', 'ls-files', '--error-unmatch', '--', basename(absolute)], {
      cwd: dirname(absolute),
      timeout: 10_000,
    });
    return true;
  } catch {
    // Exit 1: not tracked; 128: not a checkout; ENOENT: no such directory, or no git.
    return false;
  }
}

/** Names the input and the form it takes: a bare `EISDIR` tells the user nothing. */
function baselinePathError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const problem = code === 'EISDIR' ? 'is a directory' : `cannot be read (${error instanceof Error ? error.message : String(error)})`;
  return new Error(`input \`baseline-path\`: ${path} ${problem}; expected the path of a file, such as \`.loadgate/baseline.json\``);
}

function lockOwnerOf(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isInteger(value.pid) && typeof value.host === 'string' && typeof value.token === 'string') {
      return { pid: value.pid!, host: value.host, token: value.token };
    }
  } catch {
    // empty (its writer died between create and write) or foreign: judged by age alone
  }
  return undefined;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
