import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { remoteCommand, shellQuote, validateAbsolutePath } from '../../src/remote/shell.ts';
import { TargetError } from '../../src/remote/target-error.ts';

const hostile = ['; rm -rf /', '$(touch /tmp/loadgate-pwned)', '`id`', "it's", '"double"', 'a\nb', "'; echo '", '\\', '', '*'];

test('shellQuote makes any value one literal word for a real sh', { timeout: 10_000 }, () => {
  for (const value of hostile) {
    assert.equal(execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' }), value);
  }
});

test('remoteCommand survives being parsed twice (login shell, then sh -c), also through sudo', { timeout: 10_000 }, () => {
  const command = `printf '%s|' ${hostile.map(shellQuote).join(' ')}`;
  const expected = hostile.map((value) => `${value}|`).join('');
  assert.equal(execFileSync('sh', ['-c', remoteCommand(command, 'none')], { encoding: 'utf8' }), expected);
  assert.match(remoteCommand(command, 'sudo'), /^sudo -n sh -c '/);
  assert.match(remoteCommand(command, 'sudo-with-password'), /^sudo -k -S -p '' sh -c '/);
});

test('validateAbsolutePath accepts plain absolute paths and refuses the rest', { timeout: 10_000 }, () => {
  for (const path of ['/swapfile', '/var/lib/loadgate/swap-1.img', '/mnt/data_2/swap.file']) {
    assert.equal(validateAbsolutePath(path, 'swap-path'), path);
  }
  for (const path of [...hostile, '/tmp/a b', 'relative', '/tmp/../etc/shadow', '/tmp/./x', '/', '/tmp//x', '/tmp/x/']) {
    assert.throws(
      () => validateAbsolutePath(path, 'swap-path'),
      (error: unknown) => error instanceof TargetError && error.code === 'invalid-setting' && error.message.startsWith('swap-path must be'),
      JSON.stringify(path),
    );
  }
});
