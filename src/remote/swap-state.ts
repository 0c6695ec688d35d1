// Swap facts and decisions without I/O: parsing /proc/meminfo and /proc/swaps, the size asked
// for, and what `swap: configure` must do given what is on the target.

import type { SwapSize } from '../config/settings.ts';
import { formatBytes } from '../units.ts';

export interface SwapDevice {
  path: string;
  /** `file` or `partition`, as /proc/swaps says. */
  type: string;
  /** Usable size (the kernel does not count the swap header page). */
  sizeBytes: number;
  usedBytes: number;
}

export interface SwapState {
  memTotalBytes: number;
  devices: SwapDevice[];
  totalBytes: number;
  usedBytes: number;
}

const KIB = 1024;
export const MIB = 1024 * KIB;

/**
 * A swap file of N bytes shows in /proc/swaps as N minus one header page (4 KiB, 64 KiB on some
 * kernels): swap within this much of the size asked for counts as that size.
 */
const HEADER_SLACK_BYTES = MIB;

/** Disk space that must stay free on the swap file's filesystem after creating it. */
export const FREE_DISK_MARGIN_BYTES = 512 * MIB;

export function parseSwapState(meminfo: string, procSwaps: string): SwapState {
  const memTotal = /^MemTotal:\s+(\d+)\s+kB/m.exec(meminfo);
  if (!memTotal) throw new Error('no MemTotal line in /proc/meminfo');
  const devices = procSwaps
    .split('\n')
    .slice(1) // the header line
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 4)
    .map(([path, type, size, used]) => ({
      path: unescapeProcPath(path!),
      type: type!,
      sizeBytes: Number(size) * KIB,
      usedBytes: Number(used) * KIB,
    }));
  return {
    memTotalBytes: Number(memTotal[1]) * KIB,
    devices,
    totalBytes: devices.reduce((sum, device) => sum + device.sizeBytes, 0),
    usedBytes: devices.reduce((sum, device) => sum + device.usedBytes, 0),
  };
}

/** The kernel writes spaces and other odd characters in /proc paths as `\040`-style octal. */
function unescapeProcPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Whole MiB, rounded up: what a swap file of this size is created with. */
export function requiredSwapBytes(size: SwapSize, memTotalBytes: number): number {
  const bytes = 'bytes' in size ? size.bytes : size.multipleOfMemory * memTotalBytes;
  return Math.ceil(bytes / MIB) * MIB;
}

export function isEnough(activeBytes: number, requiredBytes: number): boolean {
  return activeBytes + HEADER_SLACK_BYTES >= requiredBytes;
}

/** A directory on the way to `swap-path`, from / down, as the probe found it. */
export interface ParentDirectory {
  path: string;
  type: 'directory' | 'symlink' | 'absent' | 'other';
  uid: number;
  /** The owner's name, as the target reported it. */
  user: string;
  mode: number;
}

/** The file at `swap-path`: its owner, its number of names, and which file it is (`device:inode`). */
export interface ExistingFile {
  uid: number;
  user: string;
  links: number;
  identity: string;
}

/** What is at `swap-path` on the target, as the probe found it; `parents` from / down to its directory. */
export type PathFacts = { parents: ParentDirectory[] } & (
  | { kind: 'absent'; freeBytes: number }
  | { kind: 'swap-file'; sizeBytes: number; freeBytes: number; file: ExistingFile }
  | { kind: 'other-file' | 'symlink' | 'not-a-file' }
);

export type SwapPlan =
  | { do: 'nothing' }
  | { do: 'activate'; file: ExistingFile }
  | { do: 'create'; bytes: number; replaceExisting: boolean }
  | { do: 'refuse'; reason: string };

/** What `swap: configure` does at `path`, given /proc/swaps and the probe of the path. */
export function planSwap(state: SwapState, path: string, requiredBytes: number, facts: PathFacts): SwapPlan {
  const active = state.devices.find((device) => device.path === path);
  const want = formatBytes(requiredBytes);
  if (active) {
    if (isEnough(active.sizeBytes, requiredBytes)) return { do: 'nothing' };
    return {
      do: 'refuse',
      reason:
        `${path} is active swap of ${formatBytes(active.sizeBytes)} (${formatBytes(active.usedBytes)} used), smaller than the ` +
        `${want} asked for, and loadgate does not resize swap that is in use. Run \`sudo swapoff ${path}\` on the target ` +
        '(loadgate then recreates it at the new size), or lower `swap-size`.',
    };
  }
  switch (facts.kind) {
    case 'symlink':
    case 'not-a-file':
      return { do: 'refuse', reason: `${path} exists and is not a regular file; choose another \`swap-path\`.` };
    case 'other-file':
      return {
        do: 'refuse',
        reason: `${path} exists and is not a swap file; loadgate never overwrites it. Choose another \`swap-path\`, or remove the file.`,
      };
    case 'swap-file': {
      const refusal = foreignFile(path, facts.file) ?? unsafeParent(path, facts.parents);
      if (refusal) return { do: 'refuse', reason: refusal };
      if (isEnough(facts.sizeBytes, requiredBytes)) return { do: 'activate', file: facts.file };
      return (
        roomFor(path, requiredBytes, facts.freeBytes + facts.sizeBytes) ?? { do: 'create', bytes: requiredBytes, replaceExisting: true }
      );
    }
    case 'absent': {
      const refusal = unsafeParent(path, facts.parents);
      if (refusal) return { do: 'refuse', reason: refusal };
      return roomFor(path, requiredBytes, facts.freeBytes) ?? { do: 'create', bytes: requiredBytes, replaceExisting: false };
    }
  }
}

/** Root's swapped-out memory goes into the file: only a file of root's, with no other name, may hold it. */
function foreignFile(path: string, file: ExistingFile): string | undefined {
  if (file.uid !== 0) {
    return (
      `${path} belongs to ${owner(file)}, not root: swap there would put root's memory in a file that account can read, ` +
      'and fstab would activate whatever it puts there at every boot. loadgate activates only a swap file root owns; ' +
      'remove it (loadgate then creates its own), or choose another `swap-path`.'
    );
  }
  if (file.links !== 1) {
    return (
      `${path} has ${file.links} names (hard links), so it may be reached from a directory others can use; loadgate ` +
      'activates only a swap file with one name. Remove the other names or the file, or choose another `swap-path`.'
    );
  }
  return undefined;
}

/**
 * The file at `swap-path` is root's only if no other account can rename it away or put another
 * in its place, now or before a boot reads fstab: every directory from / down must be a real
 * directory of root's that only root may write (a sticky /tmp still lets anyone take a free name).
 * Checked from / down, each directory already checked keeps the next one in place.
 */
function unsafeParent(path: string, parents: ParentDirectory[]): string | undefined {
  const others = `another account could put its own file at ${path} for root to activate (now, or from fstab at every boot)`;
  const choose = 'Choose a `swap-path` in directories only root can write, like /swapfile.';
  for (const parent of parents) {
    switch (parent.type) {
      case 'absent':
        return `the directory of ${path} does not exist on the target; choose another \`swap-path\`.`;
      case 'other':
        return `${parent.path} is not a directory on the target; choose another \`swap-path\`.`;
      case 'symlink':
        return `${parent.path} is a symbolic link: give \`swap-path\` without symlinks, so that loadgate checks the directories it really uses.`;
      case 'directory':
        if (parent.uid !== 0) return `the directory ${parent.path} belongs to ${owner(parent)}, not root: ${others}. ${choose}`;
        if ((parent.mode & 0o022) !== 0) {
          const mode = parent.mode.toString(8).padStart(4, '0');
          return `the directory ${parent.path} is writable by ${parent.mode & 0o002 ? 'everyone' : 'its group'} (mode ${mode}): ${others}. ${choose}`;
        }
    }
  }
  return undefined;
}

/** The owner as `name (uid N)`; a name that does not look like a user name is the target's text, not shown. */
function owner(entry: { uid: number; user: string }): string {
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$/.test(entry.user) ? `${entry.user} (uid ${entry.uid})` : `uid ${entry.uid}`;
}

function roomFor(path: string, bytes: number, availableBytes: number): SwapPlan | undefined {
  if (availableBytes >= bytes + FREE_DISK_MARGIN_BYTES) return undefined;
  return {
    do: 'refuse',
    reason:
      `not enough free disk for a ${formatBytes(bytes)} swap file at ${path}: ${formatBytes(availableBytes)} available, ` +
      `and loadgate keeps ${formatBytes(FREE_DISK_MARGIN_BYTES)} free. Free some space, choose a \`swap-path\` on a ` +
      'bigger filesystem, or lower `swap-size`.',
  };
}
