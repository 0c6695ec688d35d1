// The target's swap: read it, check it against `swap-size`, or make it so at `swap-path` the way
// an operator would (fallocate or dd, chmod 600, mkswap, swapon, one fstab line), and only where
// no other account can put its own file for root to swap to: an existing file must be root's.

import type { SwapMode, SwapSettings } from '../config/settings.ts';
import { isSwapFilePath, SWAP_PATH_FORM } from '../config/validators.ts';
import type { Log } from '../log.ts';
import { formatBytes } from '../units.ts';
import { DEFAULT_EXEC_TIME_LIMIT_MS, type ExecResult, type RemoteHost } from './remote-host.ts';
import { shellQuote, validateAbsolutePath } from './shell.ts';
import {
  type ExistingFile,
  isEnough,
  MIB,
  type ParentDirectory,
  type PathFacts,
  parseSwapState,
  planSwap,
  requiredSwapBytes,
  type SwapState,
} from './swap-state.ts';
import { TargetError } from './target-error.ts';

export type { SwapDevice, SwapState } from './swap-state.ts';

export type SwapAction = 'reported' | 'verified' | 'already-active' | 'activated' | 'created';

export interface SwapReport {
  mode: SwapMode;
  path: string;
  /** What `swap-size` means on this host; absent with `swap: off`. */
  requiredBytes?: number;
  before: SwapState;
  after: SwapState;
  action: SwapAction;
  /** How the file was written, when loadgate created it. */
  createdWith?: 'fallocate' | 'dd';
  fstabLineAdded: boolean;
  /** One sentence for the report: what was found and what was done. */
  message: string;
}

/** A swap check that stops the run; carries the state found, for the report. */
export class SwapError extends TargetError {
  constructor(
    code: 'swap-insufficient' | 'swap-refused',
    message: string,
    readonly state: SwapState,
  ) {
    super(code, message);
  }
}

export interface EnsureSwapOptions {
  /** Tests point this at a copy; the real run edits /etc/fstab. */
  fstabPath?: string;
}

export async function inspectSwap(host: RemoteHost): Promise<SwapState> {
  const result = await host.exec('cat /proc/meminfo && echo ---loadgate--- && cat /proc/swaps');
  const [meminfo, swaps] = result.stdout.split('---loadgate---\n');
  if (result.code !== 0 || swaps === undefined) {
    throw new TargetError('command-failed', `could not read /proc/meminfo and /proc/swaps on the target: ${result.stderr.trim()}`);
  }
  return parseSwapState(meminfo!, swaps);
}

export async function ensureSwap(host: RemoteHost, settings: SwapSettings, log: Log, options: EnsureSwapOptions = {}): Promise<SwapReport> {
  if (!isSwapFilePath(settings.path)) {
    throw new TargetError('invalid-setting', `swap-path must be ${SWAP_PATH_FORM}, got ${JSON.stringify(settings.path)}`);
  }
  const path = settings.path;
  const fstab = validateAbsolutePath(options.fstabPath ?? '/etc/fstab', 'fstab path');
  const before = await inspectSwap(host);
  const report = (fields: Omit<SwapReport, 'mode' | 'path' | 'before' | 'fstabLineAdded'> & { fstabLineAdded?: boolean }): SwapReport => {
    log.info(`swap: ${fields.message}`);
    return { mode: settings.mode, path, before, fstabLineAdded: false, ...fields };
  };
  const summary = `${formatBytes(before.totalBytes)} of swap active, ${formatBytes(before.usedBytes)} used, MemTotal ${formatBytes(before.memTotalBytes)}`;

  if (settings.mode === 'off') return report({ after: before, action: 'reported', message: `${summary} (swap: off, not checked).` });

  const requiredBytes = requiredSwapBytes(settings.size, before.memTotalBytes);
  const want = formatBytes(requiredBytes);
  if (settings.mode === 'verify') {
    if (isEnough(before.totalBytes, requiredBytes)) {
      return report({ requiredBytes, after: before, action: 'verified', message: `${summary}; at least ${want} asked: ok.` });
    }
    throw new SwapError(
      'swap-insufficient',
      `swap: the target has ${summary}, less than the ${want} \`swap-size\` asks for. A host without enough swap ` +
        `dies under load instead of slowing down. Set \`swap: configure\` to let loadgate create a ${want} swap file at ` +
        `${path} (\`swap-path\`), add swap yourself, or set \`swap: off\` to only report it.`,
      before,
    );
  }

  const plan = planSwap(before, path, requiredBytes, await probePath(host, path));
  if (plan.do === 'refuse') throw new SwapError('swap-refused', `swap: refusing to configure swap: ${plan.reason}`, before);
  if (plan.do === 'nothing') {
    return report({
      requiredBytes,
      after: before,
      action: 'already-active',
      message: `${path} already active with at least ${want}; nothing changed.`,
    });
  }

  let createdWith: SwapReport['createdWith'];
  if (plan.do === 'activate') {
    await activateExisting(host, path, plan.file, before);
  } else {
    if (plan.replaceExisting) await run(host, `rm -f ${shellQuote(path)}`, `removing the smaller, unused swap file ${path}`);
    createdWith = await createSwapFile(host, path, plan.bytes);
  }
  const fstabLineAdded = settings.persist ? await addFstabLine(host, path, fstab) : false;
  const after = await inspectSwap(host);
  const active = after.devices.find((device) => device.path === path);
  if (!active) throw new SwapError('swap-refused', `swap: ${path} was set up but does not show in /proc/swaps.`, after);

  const did =
    plan.do === 'activate' ? `activated the existing swap file ${path}` : `created ${path} (${want}, ${createdWith}) and activated it`;
  const persisted = settings.persist ? (fstabLineAdded ? `, added it to ${fstab}` : `, ${fstab} already lists it`) : '';
  return report({
    requiredBytes,
    after,
    action: plan.do === 'activate' ? 'activated' : 'created',
    createdWith,
    fstabLineAdded,
    message: `${did}${persisted}; swap ${formatBytes(before.totalBytes)} → ${formatBytes(after.totalBytes)}.`,
  });
}

/**
 * Looks at the path without changing anything: each directory from / down (owner, mode, type),
 * then the file (type, owner, names, identity, size, swap signature) and the room left.
 */
async function probePath(host: RemoteHost, path: string): Promise<PathFacts> {
  const file = shellQuote(path);
  const parentPaths = path
    .split('/')
    .slice(1, -1)
    .map((_, index, segments) => `/${segments.slice(0, index + 1).join('/')}`);
  const directory = shellQuote(parentPaths.at(-1) ?? '/');
  // mkswap writes `SWAPSPACE2` in the last 10 bytes of the first page.
  const script = [
    `for d in / ${parentPaths.map(shellQuote).join(' ')}; do`,
    `  if [ -e "$d" ] || [ -L "$d" ]; then echo "parent=$d $(stat -c '%u %a %U %F' -- "$d")"; else echo "parent=$d absent"; break; fi`,
    'done',
    `if [ -L ${file} ]; then echo kind=symlink`,
    `elif [ -f ${file} ]; then`,
    `  echo kind=file; echo size=$(stat -c %s ${file}); echo file=$(stat -c '%d:%i %u %h %U' -- ${file})`,
    `  echo signature=$(dd if=${file} bs=1 skip=$(($(getconf PAGESIZE) - 10)) count=10 2>/dev/null | tr -dc A-Z0-9)`,
    `elif [ -e ${file} ]; then echo kind=not-a-file`,
    'else echo kind=absent; fi',
    `if [ -d ${directory} ]; then echo free=$(df -Pk ${directory} | awk 'NR == 2 { print $4 }'); fi`,
  ].join('\n');
  const stdout = (await run(host, script, `looking at ${path}`)).stdout;
  const facts = parseFacts(stdout);
  const parents = stdout
    .split('\n')
    .filter((line) => line.startsWith('parent='))
    .map((line) => parseParent(line.slice('parent='.length)));
  const freeBytes = Number(facts.get('free') ?? 0) * 1024;
  switch (facts.get('kind')) {
    case 'symlink':
      return { parents, kind: 'symlink' };
    case 'not-a-file':
      return { parents, kind: 'not-a-file' };
    case 'file':
      return facts.get('signature') === 'SWAPSPACE2'
        ? { parents, kind: 'swap-file', sizeBytes: Number(facts.get('size')), freeBytes, file: parseFile(facts.get('file') ?? '') }
        : { parents, kind: 'other-file' };
    default:
      return { parents, kind: 'absent', freeBytes };
  }
}

/** `<path> <uid> <mode> <user> <type>` or `<path> absent`; anything else counts as not a directory. */
function parseParent(line: string): ParentDirectory {
  const [path = '', uid = '', mode = '', user = '', ...type] = line.split(' ');
  const kind = uid === 'absent' ? 'absent' : ({ directory: 'directory', 'symbolic link': 'symlink' } as const)[type.join(' ')];
  return { path, type: kind ?? 'other', uid: Number(uid), user, mode: Number.parseInt(mode, 8) };
}

/** `<device>:<inode> <uid> <links> <user>` */
function parseFile(line: string): ExistingFile {
  const [identity = '', uid = '', links = '', user = ''] = line.split(' ');
  return { identity, uid: Number(uid), links: Number(links), user };
}

function parseFacts(stdout: string): Map<string, string> {
  return new Map(
    stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** dd writes the whole file: its time limit allows this pace, a slow network disk's, on top of the usual minute. */
const DD_SLOWEST_BYTES_PER_SEC = 10 * MIB;

/** Exit status of the creation scripts when the swap file could not be created new. */
const NOT_CREATED = 17;

/**
 * fallocate is instant but some filesystems refuse it, or refuse a fallocated file as swap
 * ("holes"): then the file is written out with dd. `set -C` makes creation fail rather than
 * clobber a file that appeared since the probe; `chattr +C` keeps btrfs from copy-on-write
 * (harmless elsewhere).
 */
async function createSwapFile(host: RemoteHost, path: string, bytes: number): Promise<'fallocate' | 'dd'> {
  const file = shellQuote(path);
  const create = `{ umask 077 && set -C && : > ${file}; } || exit ${NOT_CREATED}; chattr +C ${file} 2>/dev/null`;
  const activate = `chmod 600 ${file} && mkswap ${file} >/dev/null && swapon ${file}`;
  const fast = await host.exec(`${create}; fallocate -l ${bytes} ${file} && ${activate}`, { sudo: true });
  if (fast.code === 0) return 'fallocate';
  if (fast.code !== NOT_CREATED) {
    // The file is ours (set -C proved it did not exist): redo it the slow way.
    const slow = await host.exec(
      `swapoff ${file} 2>/dev/null; rm -f ${file}; ${create}; dd if=/dev/zero of=${file} bs=1M count=${bytes / MIB} 2>&1 && ${activate}`,
      { sudo: true, timeLimitMs: DEFAULT_EXEC_TIME_LIMIT_MS + (bytes / DD_SLOWEST_BYTES_PER_SEC) * 1000 },
    );
    if (slow.code === 0) return 'dd';
    if (slow.code !== NOT_CREATED) await host.exec(`rm -f ${file}`, { sudo: true });
    throw new TargetError(
      'command-failed',
      `swap: could not create a swap file at ${path}: with fallocate: ${lastLine(fast.stderr)}; with dd: ${lastLine(slow.stderr + slow.stdout)}`,
    );
  }
  throw new TargetError(
    'command-failed',
    `swap: could not create ${path}: ${lastLine(fast.stderr) || 'it appeared while loadgate was looking'}`,
  );
}

/** Appends one line unless a line for this path is there; never rewrites the file. */
async function addFstabLine(host: RemoteHost, path: string, fstab: string): Promise<boolean> {
  const file = shellQuote(fstab);
  const script = [
    `if awk -v path=${shellQuote(path)} '$1 == path { found = 1 } END { exit !found }' ${file} 2>/dev/null; then echo present; exit 0; fi`,
    // A last line without its newline would otherwise be glued to ours.
    `if [ -s ${file} ] && [ -n "$(tail -c 1 ${file})" ]; then echo >> ${file}; fi`,
    `printf '%s\\n' ${shellQuote(`${path} none swap sw 0 0`)} >> ${file} && echo added`,
  ].join('\n');
  return (await run(host, script, `adding ${path} to ${fstab}`)).stdout.includes('added');
}

/** Exit status of the activation script when the file is no longer the one the probe approved. */
const CHANGED_BEFORE_USE = 76;
/** Exit status when swapon (which opens the file by name again) got another file than the one checked. */
const REPLACED_DURING_USE = 77;

/**
 * Activates the file the probe approved, and only that one: root's shell checks that the file is
 * still that inode, with the same owner and number of names, right before chmod and swapon, and
 * again after (swapon takes a name, and util-linux turns even /proc/self/fd/N back into one), so
 * a replacement by anything other than root, which the directory rule already excludes, is caught.
 */
async function activateExisting(host: RemoteHost, path: string, approved: ExistingFile, before: SwapState): Promise<void> {
  const file = shellQuote(path);
  const unchanged = `[ "$(stat -c '%d:%i %u %h' -- ${file} 2>/dev/null)" = ${shellQuote(`${approved.identity} ${approved.uid} ${approved.links}`)} ]`;
  const listed = `awk -v path=${file} 'NR > 1 && $1 == path { found = 1 } END { exit !found }' /proc/swaps`;
  const script = [
    `${unchanged} || exit ${CHANGED_BEFORE_USE}`,
    `chmod 600 ${file} && swapon ${file} || exit`,
    `{ ${unchanged} && ${listed}; } || { swapoff ${file}; exit ${REPLACED_DURING_USE}; }`,
  ].join('\n');
  const result = await host.exec(script, { sudo: true });
  if (result.code === CHANGED_BEFORE_USE) {
    throw new SwapError(
      'swap-refused',
      `swap: ${path} changed after loadgate checked it (another file, owner or number of names); nothing was activated. ` +
        'Run again to have it checked anew.',
      before,
    );
  }
  if (result.code === REPLACED_DURING_USE) {
    throw new SwapError(
      'swap-refused',
      `swap: ${path} was replaced while swapon opened it, so loadgate ran swapoff on it. Something on the target is ` +
        'changing that file as root: check /proc/swaps and what writes its directory.',
      before,
    );
  }
  if (result.code !== 0) throw failed(`activating the existing swap file ${path}`, result);
}

async function run(host: RemoteHost, script: string, doing: string): Promise<{ stdout: string }> {
  const result = await host.exec(script, { sudo: true });
  if (result.code !== 0) throw failed(doing, result);
  return result;
}

function failed(doing: string, result: ExecResult): TargetError {
  return new TargetError('command-failed', `swap: failed ${doing}: ${lastLine(result.stderr) || `exit ${result.code}`}`);
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
