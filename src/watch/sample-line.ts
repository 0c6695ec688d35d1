// The remote sampler's program and the decoding of the one line per second it prints. Pure.
//
// One POSIX sh loop lives for the whole burst (not one SSH exec per sample). Each second one awk
// reads the /proc files and prints the lines we need from each file, files separated by `|` and
// lines by `;`, so the same parsers that read whole /proc files decode a sample.
// The loop ends when RemoteProcess.stop() ends it (the SSH transport signals the command's process
// group once the channel's stdin reaches EOF, see remote/shell.ts endOnStdinEof) or, failing that,
// at the first sample it cannot write. On that SIGTERM it prints one last sample before it exits,
// so the figures after a burst come as soon as it ends instead of at the next tick (up to a second
// later). The marker is `$0` of the loop's shell, so `pgrep -f` on the host finds any sampler still
// running.

import { shellQuote } from '../remote/shell.ts';
import {
  parseBootTime,
  parseLoadavg,
  parseMeminfo,
  parsePressure,
  parseStatCpu,
  parseVmstat,
  type CpuTimes,
  type Loadavg,
  type Meminfo,
  type MemoryPressure,
  type Vmstat,
} from './proc-parsers.ts';

export const SAMPLER_MARKER = 'loadgate-host-sampler';

const SAMPLE_PROGRAM = `
function keep(file, pattern,   line, out) {
  out = ""
  while ((getline line < file) > 0) if (line ~ pattern) out = out (out == "" ? "" : ";") line
  close(file)
  return out
}
BEGIN {
  printf "%s|%s|%s|%s|%s|%s\\n", keep("/proc/uptime", "."),
    keep("/proc/meminfo", "^(MemTotal|MemAvailable|SwapTotal|SwapFree):"),
    keep("/proc/vmstat", "^(pswpin|pswpout|pgmajfault|oom_kill) "),
    keep("/proc/stat", "^(cpu |btime )"),
    keep("/proc/pressure/memory", "avg10="),
    keep("/proc/loadavg", ".")
}`;

// The signal also ends a running `sleep` or `awk` (same process group), so the trap runs at once.
const SAMPLER_SCRIPT = `sample() { awk '${SAMPLE_PROGRAM}'; }
trap 'sample; exit 0' TERM
while sample; do sleep 1; done`;

/** The command to `spawn` on the host. */
export const SAMPLER_COMMAND = `sh -c ${shellQuote(SAMPLER_SCRIPT)} ${SAMPLER_MARKER}`;

export interface HostSample {
  /** Seconds since boot on the host (/proc/uptime), for intervals between samples. */
  uptimeSec: number;
  /** The host's own clock (btime + uptime), for asking its kernel log about a window. */
  hostEpochSec: number | null;
  meminfo: Meminfo;
  vmstat: Vmstat;
  cpu: CpuTimes | null;
  pressure: MemoryPressure;
  loadavg: Loadavg | null;
}

/** Decodes one sampler line; null for anything that is not one (a shell error, a partial line). */
export function parseSampleLine(line: string): HostSample | null {
  const files = line.split('|').map((segment) => segment.replaceAll(';', '\n'));
  if (files.length !== 6) return null;
  const [uptime, meminfo, vmstat, stat, pressure, loadavg] = files as [string, string, string, string, string, string];
  const uptimeSec = Number.parseFloat(uptime);
  const parsedMeminfo = parseMeminfo(meminfo);
  if (!Number.isFinite(uptimeSec) || parsedMeminfo.memTotalKib === null) return null;
  const bootTime = parseBootTime(stat);
  return {
    uptimeSec,
    hostEpochSec: bootTime === null ? null : bootTime + uptimeSec,
    meminfo: parsedMeminfo,
    vmstat: parseVmstat(vmstat),
    cpu: parseStatCpu(stat),
    pressure: parsePressure(pressure),
    loadavg: parseLoadavg(loadavg),
  };
}
