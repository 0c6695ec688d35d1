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
import { parseServiceSegment, type ServiceProbe, type ServiceSample } from './service-memory.ts';

export const SAMPLER_MARKER = 'loadgate-host-sampler';

/** The services whose memory the sampler reads: this build's, and in A/B mode the baseline's. */
export interface SampledServices {
  candidate?: ServiceProbe;
  baseline?: ServiceProbe;
}

/** Processes of a service read per sample, at most: bounds the sampler's cost on a host with a huge match. */
export const SERVICE_PROCESS_CAP = 64;

const HOST_FILES = `keep("/proc/uptime", "."),
    keep("/proc/meminfo", "^(MemTotal|MemAvailable|SwapTotal|SwapFree):"),
    keep("/proc/vmstat", "^(pswpin|pswpout|pgmajfault|oom_kill) "),
    keep("/proc/stat", "^(cpu |btime )"),
    keep("/proc/pressure/memory", "avg10="),
    keep("/proc/loadavg", ".")`;

const KEEP_FUNCTION = `
function keep(file, pattern,   line, out) {
  out = ""
  while ((getline line < file) > 0) if (line ~ pattern) out = out (out == "" ? "" : ";") line
  close(file)
  return out
}`;

// Its own processes are never the service, whatever the pattern matches: the sampler's shell and
// awk share a process group (the transport starts them in their own session), and every process
// that carries the sampler's marker in its command line (the SSH wrapper around it, and this awk,
// whose program holds the marker below) is left out.
const SERVICE_FUNCTIONS = `
function first(file, pattern,   line, out, f) {
  out = ""
  while ((getline line < file) > 0) if (line ~ pattern) { split(line, f, " "); out = f[2]; break }
  close(file)
  return out
}
function value(file,   line, out) {
  out = ""
  while ((getline line < file) > 0) out = out (out == "" ? "" : "\\n") line
  close(file)
  return out
}
function add(out, item) { return out (out == "" ? "" : ";") item }
function service(pids, dir, ver,   out, list, n, i, pid, stat, f, cmd, rss, pss, count) {
  out = ""
  if (dir != "") {
    out = add(out, "cg cur " value(dir (ver == 2 ? "/memory.current" : "/memory.usage_in_bytes")))
    out = add(out, "cg peak " value(dir (ver == 2 ? "/memory.peak" : "/memory.max_usage_in_bytes")))
    pids = ""
    while ((getline pid < (dir "/cgroup.procs")) > 0) pids = pids " " pid
    close(dir "/cgroup.procs")
  }
  n = split(pids, list, " ")
  count = 0
  for (i = 1; i <= n; i++) {
    pid = list[i]
    stat = value("/proc/" pid "/stat")
    sub(/^.*\\) /, "", stat)
    split(stat, f, " ")
    if (f[3] == group) continue
    cmd = value("/proc/" pid "/cmdline")
    if (index(cmd, "${SAMPLER_MARKER}") > 0) continue
    rss = first("/proc/" pid "/status", "^VmRSS:")
    if (rss == "") continue
    count++
    if (count <= ${SERVICE_PROCESS_CAP}) {
      pss = first("/proc/" pid "/smaps_rollup", "^Pss:")
      # The command line's separators (NUL), and anything that is not a plain word, become spaces:
      # it cannot split the segment; service-memory.ts shortCommand keeps its leading words only.
      gsub(/[^][A-Za-z0-9._:/@=+,-]+/, " ", cmd)
      out = add(out, "p " pid " " (pss == "" ? "-" : pss) " " rss " " f[2] " " substr(cmd, 1, 400))
    }
  }
  return add(out, "n " count)
}`;

function sampleProgram(services: readonly ServiceProbe[]): string {
  if (services.length === 0) {
    return `${KEEP_FUNCTION}
BEGIN {
  printf "%s|%s|%s|%s|%s|%s\\n", ${HOST_FILES}
}`;
  }
  const segments = services.map((_, i) => `service(s${i}_pids, s${i}_dir, s${i}_ver)`);
  return `${KEEP_FUNCTION}${SERVICE_FUNCTIONS}
BEGIN {
  stat = value("/proc/self/stat")
  sub(/^.*\\) /, "", stat)
  split(stat, f, " ")
  group = f[3]
  printf "%s|%s|%s|%s|%s|%s${'|%s'.repeat(services.length)}\\n", ${HOST_FILES},
    ${segments.join(', ')}
}`;
}

/**
 * A pattern written into the script as octal escapes that printf decodes at run time: the command
 * lines of the sampler and its SSH wrapper never hold the pattern itself, so `gunicorn` does not
 * match them (a pattern such as `.` still would; the filter in the awk program handles that).
 */
function octalEscaped(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');
}

/** The shell that sets each service's variables, and the awk options that pass them on per sample. */
function serviceShell(services: readonly ServiceProbe[]): { prelude: string; awkOptions: string } {
  const prelude: string[] = [];
  const options: string[] = [];
  services.forEach((service, i) => {
    if (service.kind === 'match') {
      prelude.push(`s${i}_pattern=$(printf '${octalEscaped(service.pattern)}')`);
      options.push(`-v s${i}_pids="$(pgrep -d ' ' -f -- "$s${i}_pattern")" -v s${i}_dir= -v s${i}_ver=0`);
    } else {
      options.push(`-v s${i}_pids= -v s${i}_dir=${shellQuote(service.directory)} -v s${i}_ver=${service.version}`);
    }
  });
  return { prelude: prelude.join('\n'), awkOptions: options.join(' ') };
}

function orderedServices(services: SampledServices): ServiceProbe[] {
  return [services.candidate, services.baseline].filter((service) => service !== undefined);
}

/** The sampler's program: host figures, then one segment per service (candidate, then baseline). */
/** `first`: a sh fragment run before the first sample (the host speed probe), its output passed on. */
export function samplerCommand(services: SampledServices = {}, first?: string): string {
  const ordered = orderedServices(services);
  const { prelude, awkOptions } = serviceShell(ordered);
  // The signal also ends a running `sleep` or `awk` (same process group), so the trap runs at once.
  const awk = `awk ${awkOptions ? `${awkOptions} ` : ''}${shellQuote(sampleProgram(ordered))}`;
  const script = `${first ? `${first}\n` : ''}${prelude ? `${prelude}\n` : ''}sample() { ${awk}; }
trap 'sample; exit 0' TERM
while sample; do sleep 1; done`;
  return `sh -c ${shellQuote(script)} ${SAMPLER_MARKER}`;
}

/** The command to `spawn` on the host when no service is watched. */
export const SAMPLER_COMMAND = samplerCommand();

/**
 * One sample of the given services before any load, each pattern's pgrep status (2: not a valid
 * regular expression), and the host's largest processes by RSS, for an error that helps.
 * Sections are separated by lines of `@@`.
 */
export function serviceCheckCommand(services: SampledServices): string {
  const ordered = orderedServices(services);
  const { prelude, awkOptions } = serviceShell(ordered);
  const statuses = ordered.map((service, i) =>
    service.kind === 'match' ? `pgrep -f -- "$s${i}_pattern" >/dev/null 2>&1; echo "s${i} $?"` : `echo "s${i} 0"`,
  );
  const script = `${prelude}
${statuses.join('\n')}
echo @@
awk ${awkOptions} ${shellQuote(sampleProgram(ordered))}
echo @@
ps -eo rss=,comm= --sort=-rss 2>/dev/null | head -n 40`;
  return `sh -c ${shellQuote(script)} ${SAMPLER_MARKER}`;
}

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
  /** The sampled services' memory, in SampledServices order; empty when none is watched. */
  services: Array<ServiceSample | null>;
}

/** Decodes one sampler line; null for anything that is not one (a shell error, a partial line). */
export function parseSampleLine(line: string): HostSample | null {
  const files = line.split('|').map((segment) => segment.replaceAll(';', '\n'));
  if (files.length < 6 || files.length > 8) return null;
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
    services: files.slice(6).map(parseServiceSegment),
  };
}
