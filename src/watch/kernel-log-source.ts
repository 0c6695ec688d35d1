// Where the target's kernel log can be read: the journal when it holds kernel messages we may see,
// else dmesg (through sudo when dmesg_restrict keeps it from us). Chosen once per run.

import type { RemoteHost } from '../remote/remote-host.ts';
import { parseOomKills, type OomKill } from './kernel-log.ts';

export type KernelLogSource =
  | { kind: 'journal' }
  | { kind: 'dmesg'; sudo: boolean }
  | { kind: 'unreadable'; reason: string };

export interface ProbedKernelLog {
  source: KernelLogSource;
  /** Kills already in the log before we started: never blamed on this run. */
  earlierKills: OomKill[];
}

const JOURNAL_PROBE = 'journalctl -k -q -n 1 -o short-unix --no-pager';
const DMESG = 'dmesg';

export async function probeKernelLog(host: RemoteHost, bootEpochSec: number | null): Promise<ProbedKernelLog> {
  const journal = await host.exec(JOURNAL_PROBE).catch(() => null);
  if (journal?.code === 0 && journal.stdout.trim() !== '') return { source: { kind: 'journal' }, earlierKills: [] };
  let failure = 'neither journalctl -k nor dmesg printed anything';
  for (const sudo of host.isRoot ? [false] : [false, true]) {
    const dmesg = await host.exec(DMESG, { sudo }).catch((error: unknown) => ({
      code: null,
      stdout: '',
      stderr: error instanceof Error ? error.message : String(error),
    }));
    if (dmesg.code === 0 && dmesg.stdout.trim() !== '') {
      return { source: { kind: 'dmesg', sudo }, earlierKills: parseOomKills(dmesg.stdout, bootEpochSec) };
    }
    if (dmesg.stderr.trim()) failure = `dmesg${sudo ? ' with sudo' : ''}: ${dmesg.stderr.trim().split('\n')[0]}`;
  }
  return { source: { kind: 'unreadable', reason: failure }, earlierKills: [] };
}

/**
 * Kills in the kernel log: the journal's since `sinceEpochSec` (host clock); dmesg's whole ring
 * buffer, since its boot-relative times can drift from the wall clock: the caller keeps only kills
 * it has not seen before.
 */
export async function readOomKills(
  host: RemoteHost,
  source: KernelLogSource,
  sinceEpochSec: number,
  bootEpochSec: number | null,
): Promise<OomKill[]> {
  if (source.kind === 'unreadable') return [];
  const result =
    source.kind === 'journal'
      ? await host.exec(`journalctl -k --since @${Math.floor(sinceEpochSec)} -o short-unix --no-pager -q`)
      : await host.exec(DMESG, { sudo: source.sudo });
  if (result.code !== 0) {
    throw new Error(`reading the kernel log failed (exit ${result.code}): ${result.stderr.trim().split('\n')[0] ?? ''}`);
  }
  return parseOomKills(result.stdout, bootEpochSec);
}
