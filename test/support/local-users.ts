// Local users the SSH tests create (a second account on the loopback sshd), removed afterwards.

import { execFileSync } from 'node:child_process';

/**
 * Ends the users' processes and deletes the accounts; a user never created, or with no process
 * left, is not an error, since this runs in `after` hooks whatever the `before` got to.
 */
export function removeLocalUsers(users: readonly string[]): void {
  for (const user of users) {
    try {
      execFileSync('pkill', ['-KILL', '-u', user], { stdio: 'pipe' });
    } catch {
      // no process left: the usual case
    }
    try {
      execFileSync('userdel', [user], { stdio: 'pipe' });
    } catch {
      // never created
    }
  }
}
