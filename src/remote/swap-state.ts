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

/** What is at `swap-path` on the target, as the probe found it. */
export type PathFacts =
  | { kind: 'absent'; directoryExists: boolean; freeBytes: number }
  | { kind: 'swap-file'; sizeBytes: number; freeBytes: number }
  | { kind: 'other-file' | 'symlink' | 'not-a-file' };

export type SwapPlan =
  | { do: 'nothing' }
  | { do: 'activate' }
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
    case 'swap-file':
      if (isEnough(facts.sizeBytes, requiredBytes)) return { do: 'activate' };
      return (
        roomFor(path, requiredBytes, facts.freeBytes + facts.sizeBytes) ?? { do: 'create', bytes: requiredBytes, replaceExisting: true }
      );
    case 'absent':
      if (!facts.directoryExists) {
        return { do: 'refuse', reason: `the directory of ${path} does not exist on the target; choose another \`swap-path\`.` };
      }
      return roomFor(path, requiredBytes, facts.freeBytes) ?? { do: 'create', bytes: requiredBytes, replaceExisting: false };
  }
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
