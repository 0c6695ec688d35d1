// OOM kills in kernel log text. Pure. Reads `journalctl -k -o short-unix` lines
// (`1700000000.123456 host kernel: …`) and raw `dmesg` lines (`[  672.913388] …`, seconds since
// boot, placed on the host's clock with /proc/stat's btime).

export interface OomKill {
  pid: number;
  name: string;
  /** The victim's anonymous memory when killed, in MiB; null on kernels that do not print it. */
  anonRssMb: number | null;
  /** Seconds since the epoch on the host's clock; null when the line carried no usable time. */
  atEpochSec: number | null;
  /** `memory-cgroup` when a cgroup's limit (a container's) was hit rather than the whole host's RAM. */
  scope: 'host' | 'memory-cgroup';
  line: string;
}

const JOURNAL_LINE = /^(\d+(?:\.\d+)?)\s+\S+\s+kernel:\s?(.*)$/;
const DMESG_LINE = /^\[\s*(\d+(?:\.\d+)?)\]\s?(.*)$/;
const KILLED_PROCESS = /Killed process (\d+) \((.*?)\)(?= total-vm|,|\s*$)(?:.*?anon-rss:(\d+)kB)?/;

/** Every `Killed process <pid> (<name>)` line, oldest first. */
export function parseOomKills(text: string, bootEpochSec: number | null): OomKill[] {
  const kills: OomKill[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trimEnd();
    const { atEpochSec, message } = timestamped(line, bootEpochSec);
    const match = KILLED_PROCESS.exec(message);
    if (!match) continue;
    kills.push({
      pid: Number(match[1]),
      name: match[2]!,
      anonRssMb: match[3] === undefined ? null : Math.round(Number(match[3]) / 1024),
      atEpochSec,
      scope: /Memory cgroup out of memory/i.test(message) ? 'memory-cgroup' : 'host',
      line: message,
    });
  }
  return kills;
}

function timestamped(line: string, bootEpochSec: number | null): { atEpochSec: number | null; message: string } {
  const journal = JOURNAL_LINE.exec(line);
  if (journal) return { atEpochSec: Number(journal[1]), message: journal[2]! };
  const dmesg = DMESG_LINE.exec(line);
  if (dmesg) return { atEpochSec: bootEpochSec === null ? null : bootEpochSec + Number(dmesg[1]), message: dmesg[2]! };
  return { atEpochSec: null, message: line };
}
