// One measurement at a time per target: an flock on a file in a directory only root may write,
// held by a command that lives exactly as long as its SSH channel. The command runs as root
// (through sudo for other SSH users), so runs connecting as different users still exclude each
// other, and no local user can plant a symlink for it to write through. Whoever holds the lock
// writes who they are to a side file, so a run that waits in vain can name the holder; what it
// reads back is bounded and stripped of control characters, since the file is the target's.

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

/** Under /run (root's, mode 0755, emptied at boot): unlike /tmp, nobody else can create it first. */
const DEFAULT_DIRECTORY = '/run/loadgate-lock';
/** Extra time we give the remote `flock -w` to answer before giving up on it ourselves. */
const ANSWER_GRACE_MS = 30_000;
/** Bytes of the holder file a waiter reads; ours are under 300. */
const HOLDER_READ_BYTES = 1024;
const RUN_ID_CHARS = 100;
/** GitHub's owner (39) / name (100) limits, with room. */
const REPOSITORY_CHARS = 150;
/** Other output of the lock command quoted in an error: at most this many lines of this many characters. */
const OTHER_LINES = 5;
const OTHER_LINE_CHARS = 300;

interface HolderInfo extends LockHolder {
  since: string;
}

export async function acquireLock(host: RemoteHost, options: LockOptions, log: Log): Promise<HostLock> {
  const directory = validateAbsolutePath(options.directory ?? DEFAULT_DIRECTORY, 'lock directory');
  const waitSeconds = Math.max(0, Math.ceil(options.timeoutMs / 1000));
  const holder = host.spawn(lockScript(directory, waitSeconds, options.holder), { sudo: true });
  const other: string[] = [];

  const outcome = new Promise<Outcome>((resolve) => {
    holder.onLine((line) => {
      const [word, ...rest] = line.split(' ');
      if (word === 'acquired') resolve({ kind: 'acquired' });
      else if (word === 'timeout') resolve({ kind: 'timeout', holder: parseHolder(rest.join(' ')) });
      else if (word === 'unsafe') resolve({ kind: 'unsafe', found: parseUnsafe(rest) });
      else if (word === 'busy') {
        log.info(`Waiting up to ${formatWait(waitSeconds)} for the lock on the target, held by ${describe(parseHolder(rest.join(' ')))}`);
      } else if (other.length < OTHER_LINES) other.push(untrustedText(line, OTHER_LINE_CHARS));
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
  if (answer.kind === 'unsafe') throw unsafeDirectory(directory, answer.found);
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

type Outcome =
  | { kind: 'acquired' }
  | { kind: 'timeout'; holder: HolderInfo | undefined }
  | { kind: 'unsafe'; found: UnsafeEntry }
  | { kind: 'ended' }
  | { kind: 'no-answer' };

/** What stood where the lock directory (or a file in it) should be, as `stat` described it. */
interface UnsafeEntry {
  path: string;
  uid: string;
  user: string;
  mode: string;
  type: string;
}

/**
 * Makes sure the directory is a real directory owned by us (root) with mode 0700 and holds no
 * symlink, takes the lock (waiting up to `waitSeconds`), records the holder, then sleeps until
 * spawn's stdin-EOF wrapper ends it: that closes fd 9, and the lock is free again. Once the
 * directory is ours and closed to others, nobody can add entries to it; the holder is still
 * replaced by rename, never written through an existing name.
 */
function lockScript(directory: string, waitSeconds: number, holder: LockHolder): string {
  const dir = shellQuote(directory);
  const lock = shellQuote(`${directory}/lock`);
  const info = shellQuote(`${directory}/holder`);
  const holderPrefix = shellQuote(`{"runId":${JSON.stringify(holder.runId)},"repository":${JSON.stringify(holder.repository)},`);
  const describeEntry = `printf 'unsafe %s %s %s %s\\n' "$(stat -c '%u %U %a' -- "$1")" "$1" "$(stat -c %F -- "$1" | tr ' ' '-')"`;
  return [
    'exec 2>&1',
    'command -v flock >/dev/null || { echo "flock is not installed on the target (util-linux)"; exit 69; }',
    'umask 077',
    `unsafe() { ${describeEntry}; exit 77; }`,
    // An existing entry is judged by the checks below; only a failure to create a missing one
    // (no parent, read-only) is shown as mkdir words it.
    `mkdir -m 700 ${dir} 2>/dev/null || [ -e ${dir} ] || [ -L ${dir} ] || { mkdir -m 700 ${dir}; exit 73; }`,
    `{ [ -d ${dir} ] && [ ! -L ${dir} ]; } || unsafe ${dir}`,
    `[ "$(stat -c %u -- ${dir})" = "$(id -u)" ] || unsafe ${dir}`,
    `case "$(stat -c %a -- ${dir})" in *00) ;; *) unsafe ${dir} ;; esac`,
    `for entry in ${lock} ${info}; do [ -L "$entry" ] && unsafe "$entry"; done`,
    `record() { rm -f ${info}.$$; ( set -C; cat > ${info}.$$ ) && mv -f ${info}.$$ ${info}; }`,
    `holder() { head -c ${HOLDER_READ_BYTES} ${info} 2>/dev/null | tr -d '\\000-\\037\\177'; }`,
    `live_holder() { pid=$(holder | sed -n 's/.*"pid":\\([0-9][0-9]*\\).*/\\1/p'); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }`,
    `exec 9>>${lock} || exit 73`,
    `if ! flock -n 9; then`,
    // A holder that just took the lock may not have written its name yet, and a holder that died
    // without its TERM trap (SIGKILL, no memory to fork) left its own: wait a moment for a record
    // whose process lives.
    `  for i in 1 2 3 4 5 6 7 8 9 10; do live_holder && break; sleep 0.2; done`,
    `  printf 'busy %s\\n' "$(live_holder && holder)"`,
    `  flock -w ${waitSeconds} 9 || { printf 'timeout %s\\n' "$(live_holder && holder)"; exit 75; }`,
    'fi',
    `printf '%s"pid":%s,"since":"%s"}\\n' ${holderPrefix} $$ "$(date -u +%Y-%m-%dT%H:%M:%SZ)" | record`,
    // Forget the holder before the lock is free (fd 9 closes only when this shell exits), so a
    // waiter never names a run that has finished.
    `trap ': | record; exit 0' TERM HUP INT`,
    'echo acquired',
    'while :; do sleep 3600; done',
  ].join('\n');
}

function unsafeDirectory(directory: string, found: UnsafeEntry): TargetError {
  const what = found.path === directory ? `The lock directory ${directory}` : `${found.path} in the lock directory`;
  return new TargetError(
    'command-failed',
    `${what} on the target is a ${found.type} owned by ${found.user} (uid ${found.uid}) with mode ${found.mode}: not safe to use. ` +
      'loadgate takes its lock as root in a directory only root can write (owner root, mode 0700, no symlinks in it), so that ' +
      'no other account can plant a file or symlink for root to write through. If no loadgate run is using it, remove it as root ' +
      `(\`sudo rm -rf ${directory}\`) and run again: loadgate creates it.`,
  );
}

/** `unsafe <uid> <user> <mode> <path> <type>` from the lock script; every field is the target's text. */
function parseUnsafe(fields: string[]): UnsafeEntry {
  const [uid = '?', user = '?', mode = '?', path = '?', type = '?'] = fields.map((field) => untrustedText(field, 200));
  return { uid, user, mode: /^[0-7]+$/.test(mode) ? mode.padStart(4, '0') : mode, path, type: type.replaceAll('-', ' ') };
}

function parseHolder(text: string): HolderInfo | undefined {
  try {
    const value = JSON.parse(text.slice(0, HOLDER_READ_BYTES)) as Partial<HolderInfo>;
    if (typeof value.runId === 'string' && typeof value.repository === 'string' && typeof value.since === 'string') {
      return {
        runId: untrustedText(value.runId, RUN_ID_CHARS),
        repository: untrustedText(value.repository, REPOSITORY_CHARS),
        since: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(value.since) ? value.since : 'an unknown time',
      };
    }
  } catch {
    // an older or foreign holder file: described as unknown
  }
  return undefined;
}

/** Text from the target without control or invisible formatting characters, at most `limit` characters. */
function untrustedText(text: string, limit: number): string {
  const clean = text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '');
  return clean.length > limit ? `${clean.slice(0, limit - 1)}…` : clean;
}

function describe(info: HolderInfo | undefined): string {
  return info ? `run ${info.runId} of ${info.repository} (since ${info.since})` : 'a run that did not say who it is';
}

function formatWait(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}
