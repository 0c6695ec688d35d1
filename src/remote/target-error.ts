// Every failure that comes from the target host (connection, host key, sudo, swap, lock) is a
// TargetError with a stable code: the pipeline reports the message as is, tests assert the code.
// Messages are written for the user and never contain key, passphrase or password text.

export type TargetErrorCode =
  | 'invalid-setting'
  | 'host-key-not-pinned'
  | 'host-key-mismatch'
  | 'connection-refused'
  | 'connect-timeout'
  | 'dns-failure'
  | 'auth-rejected'
  | 'bad-key-format'
  | 'passphrase-missing'
  | 'passphrase-wrong'
  | 'connection-failed'
  | 'connection-lost'
  | 'sudo-password-required'
  | 'sudo-password-rejected'
  | 'command-failed'
  | 'swap-insufficient'
  | 'swap-refused'
  | 'lock-timeout';

export class TargetError extends Error {
  readonly code: TargetErrorCode;

  constructor(code: TargetErrorCode, message: string) {
    super(message);
    this.name = 'TargetError';
    this.code = code;
  }
}
