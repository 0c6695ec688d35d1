// One measurement at a time per target: an flock on a file in /tmp, held by a command that lives
// exactly as long as its SSH channel. Whoever holds it writes who they are to a side file, so a
// run that waits in vain can name the holder.

import type { Log } from '../log.ts';
import type { RemoteHost } from './remote-host.ts';
import { shellQuote, validateAbsolutePath } from './shell.ts';
import { TargetError } from './target-error.ts';

export interface LockHolder {
  runId: string;
  repository: string;
}

export interface LockOptions {
  timeoutMs: number;
  holder: LockHolder;
  /** Directory of the lock and holder files; tests use their own. */
  directory?: string;
}

export interface HostLock {
  release(): Promise<void>;
}

const DEFAULT_DIRECTORY = '/tmp/loadgate-lock';
/** Extra time we give the remote `flock -w` to answer before giving up on it ourselves. */
const ANSWER_GRACE_MS = 30_000;

interface HolderInfo extends LockHolder {
  since: string;
}

export async function acquireLock(host: RemoteHost, options: LockOptions, log: Log): Promise<HostLock> {
  const directory = validateAbsolutePath(options.directory ?? DEFAULT_DIRECTORY, 'lock directory');
  const waitSeconds = Math.max(0, Math.ceil(options.timeoutMs / 1000));
  const holder = host.spawn(lockScript(directory, waitSeconds, options.holder));
  const other: string[] = [];

  const outcome = new Promise<Outcome>((resolve) => {
    holder.onLine((line) => {
      const [word, ...rest] = line.split(' ');
      if (word === 'acquired') resolve({ kind: 'acquired' });
      else if (word === 'timeout') resolve({ kind: 'timeout', holder: parseHolder(rest.join(' ')) });
      else if (word === 'busy') {
        log.info(`Waiting up to ${formatWait(waitSeconds)} for the lock on the target, held by ${describe(parseHolder(rest.join(' ')))}`);
      } else other.push(line);
    });
    const ended = () => resolve({ kind: 'ended' });
    void holder.exited.then(ended, ended);
  });
  let guard: NodeJS.Timeout | undefined;
  const answer = await Promise.race([
    outcome,
    new Promise<Outcome>((resolve) => {
      guard = setTimeout(() => resolve({ kind: 'no-answer' }), options.timeoutMs + ANSWER_GRACE_MS);
    }),
  ]);
  clearTimeout(guard);

  if (answer.kind === 'acquired') {
    log.info(`Holding the lock on the target (${directory}/lock) for run ${options.holder.runId}`);
    return { release: () => holder.stop() };
  }
  await holder.stop();
  if (answer.kind === 'timeout') {
    throw new TargetError(
      'lock-timeout',
      `Another loadgate run holds the lock on the target: ${describe(answer.holder)}. Waited ${formatWait(waitSeconds)} ` +
        '(`lock-timeout`); run again when it is done, raise `lock-timeout`, or set `lock: false` to measure anyway.',
    );
  }
  // `exited` rejects when the command could not even start (lost link, sudo): that error says it best.
  await holder.exited;
  throw new TargetError(
    'command-failed',
    `Could not take the lock on the target: the lock command ${answer.kind === 'no-answer' ? 'did not answer' : 'ended'}` +
      (other.length > 0 ? ` (${other.join('; ')})` : '') +
      '.',
  );
}

type Outcome = { kind: 'acquired' } | { kind: 'timeout'; holder: HolderInfo | undefined } | { kind: 'ended' } | { kind: 'no-answer' };

/**
 * Takes the lock (waiting up to `waitSeconds`), records the holder, then sleeps until spawn's
 * stdin-EOF wrapper ends it: that closes fd 9, and the lock is free again.
 */
function lockScript(directory: string, waitSeconds: number, holder: LockHolder): string {
  const dir = shellQuote(directory);
  const lock = shellQuote(`${directory}/lock`);
  const info = shellQuote(`${directory}/holder`);
  // Different SSH users may share the target: the directory and files are world-writable.
  const holderPrefix = shellQuote(`{"runId":${JSON.stringify(holder.runId)},"repository":${JSON.stringify(holder.repository)},`);
  return [
    'exec 2>&1',
    'command -v flock >/dev/null || { echo "flock is not installed on the target (util-linux)"; exit 69; }',
    'umask 0',
    `mkdir -p -m 777 ${dir} || exit 73`,
    `exec 9>>${lock} || exit 73`,
    `if ! flock -n 9; then`,
    // A holder that just took the lock may not have written its name yet: give it a moment.
    `  for i in 1 2 3 4 5 6 7 8 9 10; do [ -s ${info} ] && break; sleep 0.2; done`,
    `  printf 'busy %s\\n' "$(cat ${info} 2>/dev/null)"`,
    `  flock -w ${waitSeconds} 9 || { printf 'timeout %s\\n' "$(cat ${info} 2>/dev/null)"; exit 75; }`,
    'fi',
    `printf '%s"since":"%s"}\\n' ${holderPrefix} "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > ${info}`,
    // Forget the holder before the lock is free (fd 9 closes only when this shell exits), so a
    // waiter never names a run that has finished.
    `trap ': > ${info}; exit 0' TERM HUP INT`,
    'echo acquired',
    'while :; do sleep 3600; done',
  ].join('\n');
}

function parseHolder(text: string): HolderInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<HolderInfo>;
    if (typeof value.runId === 'string' && typeof value.repository === 'string' && typeof value.since === 'string') {
      return { runId: value.runId, repository: value.repository, since: value.since };
    }
  } catch {
    // an older or foreign holder file: described as unknown
  }
  return undefined;
}

function describe(info: HolderInfo | undefined): string {
  return info ? `run ${info.runId} of ${info.repository} (since ${info.since})` : 'a run that did not say who it is';
}

function formatWait(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}
