// A RemoteHost that runs its commands on this machine with `bash -c`, the way sshd runs them
// through the login shell, wrapped exactly as the SSH transport wraps them (remote/shell.ts).
// Real commands and the real /proc; only the SSH channel is missing, and with it the transport's
// own part of exec: the output tail and the error for a command past its limit (ssh.test.ts).

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  DEFAULT_EXEC_TIME_LIMIT_MS,
  type ExecOptions,
  type ExecResult,
  type RemoteHost,
  type RemoteProcess,
} from '../../src/remote/remote-host.ts';
import { endAfter, endOnStdinEof, remoteCommand } from '../../src/remote/shell.ts';

const STOP_TIMEOUT_MS = 5000;

export function localHost(): RemoteHost {
  const isRoot = process.getuid?.() === 0;
  const bash = (command: string, options: ExecOptions) =>
    spawn('bash', ['-c', remoteCommand(command, options.sudo && !isRoot ? 'sudo' : 'none')], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });

  return {
    isRoot,
    hostKeyFingerprint: 'SHA256:local',
    exec(command, options = {}) {
      return new Promise<ExecResult>((resolve, reject) => {
        const child = bash(endAfter(command, Math.ceil((options.timeLimitMs ?? DEFAULT_EXEC_TIME_LIMIT_MS) / 1000)), options);
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('error', reject);
        // A command that never reads its stdin may be gone before we close it.
        child.stdin.on('error', () => {});
        child.on('close', (code) => resolve({ stdout, stderr, code }));
        child.stdin.end(options.stdin ?? '');
      });
    },
    spawn(command, options = {}): RemoteProcess {
      const child = bash(endOnStdinEof(command), options);
      child.stdin.on('error', () => {});
      child.stderr.resume();
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const lines = createInterface({ input: child.stdout });
      return {
        onLine(listener) {
          lines.on('line', listener);
        },
        exited,
        async stop() {
          // Like our end of an SSH channel closing: stdin reaches EOF, the wrapper ends the command.
          child.stdin.end();
          const timer = new Promise<'late'>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS, 'late').unref());
          if ((await Promise.race([exited, timer])) === 'late') {
            child.kill('SIGKILL');
            throw new Error(`"${command.slice(0, 60)}" did not exit within ${STOP_TIMEOUT_MS} ms of stdin EOF`);
          }
        },
      };
    },
    onDisconnect() {},
    async close() {},
  };
}
