// Rules on values that more than one stage checks: the parser, before any traffic, and the code
// that uses the value on the target. One rule per fact, here, so the two can never disagree. Pure.

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * `/` then segments of letters, digits, `.`, `_`, `-`; no `.`, `..` or empty segment (so no `//`
 * and no trailing `/`). Quoting alone would make other paths safe for the shell, but a path with
 * spaces or odd characters on the target is a mistake we prefer to refuse than to honour.
 */
export function isPlainAbsolutePath(value: string): boolean {
  const segments = value.split('/').slice(1);
  return (
    value.startsWith('/') &&
    value.length <= 256 &&
    segments.every((segment) => SAFE_SEGMENT.test(segment) && segment !== '.' && segment !== '..')
  );
}

/** Top-level directories of a Linux system: as a `swap-path`, the path would be the directory itself. */
const SYSTEM_DIRECTORIES = new Set([
  'bin',
  'boot',
  'dev',
  'etc',
  'home',
  'lib',
  'lib32',
  'lib64',
  'media',
  'mnt',
  'opt',
  'proc',
  'root',
  'run',
  'sbin',
  'srv',
  'sys',
  'tmp',
  'usr',
  'var',
]);

export const SWAP_PATH_FORM =
  'an absolute path of letters, digits, `.`, `_`, `-` and `/` naming a file: no `.`, `..` or empty segment, ' +
  'no trailing `/`, not a system directory such as `/var`; e.g. `/swapfile`';

export function isSwapFilePath(value: string): boolean {
  return isPlainAbsolutePath(value) && !SYSTEM_DIRECTORIES.has(value.slice(1));
}
