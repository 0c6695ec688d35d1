// Building remote shell commands from values: quoting, validation, privilege and lifetime wrappers.
// Pure string work; nothing here runs anything.

import { isPlainAbsolutePath } from '../config/validators.ts';
import { TargetError } from './target-error.ts';

/** One shell word whatever the value holds (quotes, `$(…)`, newlines): POSIX single quoting. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * An absolute path as `isPlainAbsolutePath` accepts it (the one rule, shared with the input parser),
 * or a TargetError naming the setting.
 */
export function validateAbsolutePath(value: string, inputName: string): string {
  if (!isPlainAbsolutePath(value)) {
    throw new TargetError(
      'invalid-setting',
      `${inputName} must be an absolute path of letters, digits, '.', '_', '-' and '/' ` + `(like /swapfile), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * How a command gains privileges: not at all (we are root, or none asked), `sudo -n` when sudo
 * needs no password, and `sudo -k -S -p ''` with the password as the first stdin line otherwise
 * (`-k` makes sudo read that line every time, so it never flows into the command's own stdin).
 */
export type Elevation = 'none' | 'sudo' | 'sudo-with-password';

/**
 * The command line sent over SSH: always `sh -c '…'`, so the user's login shell (bash, zsh,
 * fish…) never parses our POSIX syntax.
 */
export function remoteCommand(command: string, elevation: Elevation): string {
  const script = `sh -c ${shellQuote(command)}`;
  switch (elevation) {
    case 'none':
      return script;
    case 'sudo':
      return `sudo -n ${script}`;
    case 'sudo-with-password':
      return `sudo -k -S -p '' ${script}`;
  }
}

/**
 * Wraps a long-running command so that it ends when our side of the channel goes away: the
 * command runs in its own session (so its whole process group can be signalled) while a watcher
 * reads stdin; on EOF (we stopped it, or the SSH connection dropped) the watcher sends SIGTERM to
 * the group until it is gone. sshd itself sends no signal to a command without a terminal.
 */
export function endOnStdinEof(command: string): string {
  return [
    'exec 3<&0',
    `setsid sh -c ${shellQuote(command)} </dev/null 3<&- &`,
    'pid=$!',
    '{ cat >/dev/null; while kill -0 $pid 2>/dev/null; do kill -TERM -$pid 2>/dev/null || kill -TERM $pid; sleep 1; done; } <&3 >/dev/null 2>&1 3<&- &',
    'watcher=$!',
    'wait $pid; code=$?',
    'kill $watcher 2>/dev/null',
    'exit $code',
  ].join('\n');
}

/** Seconds between SIGTERM and SIGKILL when a command outlives its time limit. */
export const KILL_GRACE_SECONDS = 5;

/**
 * Wraps a command so that it cannot outlive `seconds`: it runs in its own session, with its
 * stdin, while a watchdog waits that long, then sends SIGTERM to the command's whole process group
 * and SIGKILL KILL_GRACE_SECONDS later. Closing the SSH channel would not do it: sshd signals
 * nothing to a command without a terminal. When the command exits, what it left running in its
 * group is sent SIGTERM too; the watchdog then stays to SIGKILL what ignores that, or is stopped.
 * The watchdog has a session of its own, and is stopped by pid (while it may still be starting
 * up) and then by group (its timer): no timer is left sleeping on the target.
 */
export function endAfter(command: string, seconds: number): string {
  const watchdog = `sleep ${seconds}; kill -TERM -$1 2>/dev/null || exit 0; sleep ${KILL_GRACE_SECONDS}; kill -KILL -$1 2>/dev/null`;
  return [
    'exec 3<&0',
    `setsid sh -c ${shellQuote(command)} <&3 3<&- &`,
    'pid=$!',
    'exec 3<&-',
    `setsid sh -c ${shellQuote(watchdog)} sh $pid </dev/null >/dev/null 2>&1 &`,
    'watchdog=$!',
    'wait $pid; code=$?',
    'kill -TERM -$pid 2>/dev/null || kill -KILL $watchdog -$watchdog 2>/dev/null',
    'exit $code',
  ].join('\n');
}
