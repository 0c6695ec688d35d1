// Where the target's kernel log can be read: the journal when it holds kernel messages we may see,
// else dmesg (through sudo when dmesg_restrict keeps it from us). Chosen once per run.

import type { RemoteHost } from '../remote/remote-host.ts';
import { parseOomKills, type OomKill } from './kernel-log.ts';
import { messageOf } from '../errors.ts';

export type KernelLogSource = { kind: 'journal' } | { kind: 'dmesg'; sudo: boolean } | { kind: 'unreadable'; reason: string };

export interface ProbedKernelLog {
  source: KernelLogSource;
  /** Kills already in the log before we started: never blamed on this run. */
  earlierKills: OomKill[];
}

const JOURNAL_PROBE = 'journalctl -k -q -n 1 -o short-unix --no-pager';
const DMESG = 'dmesg';
const DMESG_EXIT = '@dmesg-exit';

/**
 * The probe without sudo, as a sh fragment for HostWatch's one command at start (one exec instead
 * of two or three): prints `@journal` when the journal shows kernel messages, else `@dmesg`, what
 * dmesg wrote (stderr too, for the reason it failed) and `@dmesg-exit <code>` as the last line.
 */
export const KERNEL_LOG_PROBE_SCRIPT = [
  `if out=$(${JOURNAL_PROBE} 2>/dev/null) && printf '%s' "$out" | grep -q '[^[:space:]]'; then echo @journal`,
  `else echo @dmesg; ${DMESG} 2>&1; echo "${DMESG_EXIT} $?"; fi`,
].join('\n');

/** Chooses the source from KERNEL_LOG_PROBE_SCRIPT's output; tries dmesg through sudo when that may help. */
export async function probeKernelLog(host: RemoteHost, probeOutput: string, bootEpochSec: number | null): Promise<ProbedKernelLog> {
  const [heading = '', ...rest] = probeOutput.split('\n');
  if (heading === '@journal') return { source: { kind: 'journal' }, earlierKills: [] };
  const exitLine = rest.findLastIndex((line) => line.startsWith(`${DMESG_EXIT} `));
  const output = rest.slice(0, Math.max(0, exitLine)).join('\n');
  const code = exitLine < 0 ? null : Number(rest[exitLine]!.slice(DMESG_EXIT.length + 1));
  if (code === 0 && output.trim() !== '') {
    return { source: { kind: 'dmesg', sudo: false }, earlierKills: parseOomKills(output, bootEpochSec) };
  }
  let failure = output.trim() ? `dmesg: ${output.trim().split('\n')[0]}` : 'neither journalctl -k nor dmesg printed anything';
  if (host.isRoot) return { source: { kind: 'unreadable', reason: failure }, earlierKills: [] };
  const dmesg = await host.exec(DMESG, { sudo: true }).catch((error: unknown) => ({
    code: null,
    stdout: '',
    stderr: messageOf(error),
  }));
  if (dmesg.code === 0 && dmesg.stdout.trim() !== '') {
    return { source: { kind: 'dmesg', sudo: true }, earlierKills: parseOomKills(dmesg.stdout, bootEpochSec) };
  }
  if (dmesg.stderr.trim()) failure = `dmesg with sudo: ${dmesg.stderr.trim().split('\n')[0]}`;
  return { source: { kind: 'unreadable', reason: failure }, earlierKills: [] };
}

export interface KernelKills {
  /** /proc/vmstat oom_kill when the log was read; null on kernels without the counter. */
  oomKillCount: number | null;
  /** The log's kills; empty when the count was still `knownCount` (the log is then not read). */
  kills: OomKill[];
}

const COUNT_SEPARATOR = '@@loadgate-oom-count@@';

/**
 * The OOM kill count and the kills in the kernel log, in one exec: the journal's since
 * `sinceEpochSec` (host clock); dmesg's whole ring buffer, since its boot-relative times can drift
 * from the wall clock: the caller keeps only kills it has not seen before. While the count is still
 * `knownCount` nothing new can be in the log, and the host skips reading it.
 */
export async function readKernelKills(
  host: RemoteHost,
  source: KernelLogSource,
  sinceEpochSec: number,
  bootEpochSec: number | null,
  knownCount: number | null,
): Promise<KernelKills> {
  const logCommand =
    source.kind === 'journal'
      ? `journalctl -k --since @${Math.floor(sinceEpochSec)} -o short-unix --no-pager -q`
      : source.kind === 'dmesg'
        ? DMESG
        : 'true';
  const command = [
    'count=$(awk \'$1 == "oom_kill" { print $2 }\' /proc/vmstat)',
    `echo "$count"; echo ${COUNT_SEPARATOR}`,
    knownCount === null ? logCommand : `[ "$count" = "${knownCount}" ] || ${logCommand}`,
  ].join('\n');
  const result = await host.exec(command, { sudo: source.kind === 'dmesg' && source.sudo });
  if (result.code !== 0) {
    throw new Error(`reading the kernel log failed (exit ${result.code}): ${result.stderr.trim().split('\n')[0] ?? ''}`);
  }
  const at = result.stdout.indexOf(`${COUNT_SEPARATOR}\n`);
  const countText = (at < 0 ? '' : result.stdout.slice(0, at)).trim();
  const log = at < 0 ? '' : result.stdout.slice(at + COUNT_SEPARATOR.length + 1);
  return {
    oomKillCount: /^\d+$/.test(countText) ? Number(countText) : null,
    kills: source.kind === 'unreadable' ? [] : parseOomKills(log, bootEpochSec),
  };
}
