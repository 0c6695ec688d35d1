// Watches the target host while it is loaded: one remote sampler per burst, then the kernel log
// and the user's logs-command for what happened during the burst.

import type { BurstResult, BurstTarget } from '../load/measurement.ts';
import type { BurstObserver } from '../load/series.ts';
import type { Log } from '../log.ts';
import { OUTPUT_TAIL_BYTES, type RemoteHost } from '../remote/remote-host.ts';
import { TargetError } from '../remote/target-error.ts';
import { burstFigures } from './burst-figures.ts';
import { scanCrashLines, unseenLines } from './crash-patterns.ts';
import { MACHINE_COMMAND, parseMachine, type HostMachine } from './machine.ts';
import { healthFlags, type BurstHostHealth } from './health.ts';
import { hostSpeedCommand, parseHostSpeed, type HostSpeedProbe } from './host-speed.ts';
import type { OomKill } from './kernel-log.ts';
import { KERNEL_LOG_PROBE_SCRIPT, probeKernelLog, readKernelKills, type KernelLogSource } from './kernel-log-source.ts';
import { parseBootTime, parseVmstat } from './proc-parsers.ts';
import { startSampler } from './sampler.ts';
import type { HostSample, SampledServices } from './sample-line.ts';
import { serviceFiguresOf } from './service-memory.ts';
import { resolveServices, type ServiceSelectors } from './service-probe.ts';
import { messageOf } from '../errors.ts';
import { formatBytes } from '../units.ts';

export interface HostWatchOptions {
  /** Settings.watch.logsCommand: run on the host before the first burst and after each, scanned for crash lines. */
  logsCommand?: string;
  /** How long the logs-command may run (ended on the host after that). Default LOGS_COMMAND_TIME_LIMIT_MS; tests shorten it. */
  logsCommandTimeLimitMs?: number;
  /** The service whose own memory is sampled each burst; checked on the host before any load. */
  services?: ServiceSelectors;
  /** `host-speed-probe: auto`: time a fixed CPU workload on the host before each burst (host-speed.ts). */
  speedProbe?: boolean;
  /** `max-cpu-steal`, percent: a burst with more steal is not trusted. */
  maxStealPercent: number;
  log: Log;
}

export interface BurstWatch {
  /** Stops the sampler (which takes a last sample) and reads the logs. Never rejects: gaps are reported. */
  end(burst: Pick<BurstResult, 'index' | 'target' | 'generatorCpu'>): Promise<BurstHostHealth>;
}

const FIRST_SAMPLE_TIMEOUT_MS = 5000;
/** `journalctl --since` or `docker logs` over a busy host's last minutes, with room to spare. */
export const LOGS_COMMAND_TIME_LIMIT_MS = 60_000;
/** The probe hashes 20 ms worth, in a few passes: on a host held to a tenth of a core, seconds. */
const SPEED_PROBE_TIMEOUT_MS = 10_000;
const KERNEL_LOG_LAG_MS = 10_000;
const KERNEL_LOG_POLL_MS = 1_000;
// The journal's window opens a little early: btime is whole seconds. Kills are deduplicated anyway.
const WINDOW_SLACK_SEC = 2;

/** Also a BurstObserver: hand it to runSeries and read `bursts` afterwards. */
export class HostWatch implements BurstObserver {
  /** Health of every burst observed through beforeBurst/afterBurst, in order. */
  readonly bursts: BurstHostHealth[] = [];
  private current: BurstWatch | null = null;
  private readonly reportedKills = new Set<string>();
  private readonly seenLogLines = new Map<string, number>();
  /** MiB the run's first speed probe chose to hash: every later probe hashes the same. */
  private speedProbeMib: number | undefined;
  /** A probe that failed once is not tried again: its gap is reported with that burst. */
  private speedProbeFailed = false;

  private constructor(
    private readonly host: RemoteHost,
    private readonly options: HostWatchOptions,
    readonly machine: HostMachine,
    private readonly kernelLog: KernelLogSource,
    private readonly bootEpochSec: number | null,
    /** /proc/vmstat oom_kill when the kernel log was last read (null: unknown, read every time). */
    private oomKillCountAtLastRead: number | null,
    readonly services: SampledServices,
  ) {}

  /** Reads what machine the host is, finds a readable kernel log and notes what the logs already hold. */
  static async start(host: RemoteHost, options: HostWatchOptions): Promise<HostWatch> {
    // One exec for all of it: on a target each exec costs a login shell and a round trip.
    const survey = await host.exec(SURVEY_COMMAND);
    if (survey.code !== 0) {
      throw new Error(`reading what machine the host is failed (exit ${survey.code}): ${survey.stderr.trim()}`);
    }
    const [machine = '', btime = '', vmstat = '', kernelLogProbe = ''] = splitSurvey(survey.stdout);
    const bootEpochSec = parseBootTime(btime);
    const probed = await probeKernelLog(host, kernelLogProbe, bootEpochSec);
    if (probed.source.kind === 'unreadable') {
      options.log.warning(`host watch: kernel log not readable (${probed.source.reason}); OOM kills are counted but not named`);
    }
    const services = await resolveServices(host, options.services ?? {});
    const oomKills = parseVmstat(vmstat).oomKill;
    const watch = new HostWatch(host, options, parseMachine(machine), probed.source, bootEpochSec, oomKills, services);
    for (const kill of probed.earlierKills) watch.reportedKills.add(killKey(kill));
    if (options.logsCommand) {
      const dropped = (await watch.runLogsCommand(options.logsCommand)).dropped;
      if (dropped) options.log.warning(`host watch: ${dropped}`);
    }
    return watch;
  }

  /** Starts the sampler, led by the host speed probe (before any load), and waits for its first sample. */
  async beginBurst(): Promise<BurstWatch> {
    const probing = this.options.speedProbe && !this.speedProbeFailed;
    const startedAt = new Date();
    const sampler = startSampler(this.host, this.options.log, this.services, probing ? hostSpeedCommand(this.speedProbeMib) : undefined);
    const first = await sampler.nextSample(probing ? FIRST_SAMPLE_TIMEOUT_MS + SPEED_PROBE_TIMEOUT_MS : FIRST_SAMPLE_TIMEOUT_MS);
    const speed = probing ? this.speedOf(sampler.firstOutput) : undefined;
    return {
      end: async (burst) => {
        const gaps: string[] = typeof speed === 'string' ? [speed] : [];
        if (first === null) gaps.push('the host sampler gave no sample when the burst began');
        // The sampler prints its last sample as it stops: the "after" figures, without waiting for its next tick.
        const last = await sampler.stop().catch((error: unknown) => {
          gaps.push(`stopping the host sampler: ${messageOf(error)}`);
          return null;
        });
        if (last === null && sampler.endedEarly === null) gaps.push('the host sampler gave no sample after the burst');
        if (sampler.endedEarly) gaps.push(sampler.endedEarly);
        const samples = [...sampler.samples];
        // The logs first: a worker's death it shows has its kernel kill logged by the time we look.
        const crashLines = await this.newCrashLines(gaps).catch((error: unknown) => {
          gaps.push(messageOf(error));
          return scanCrashLines([]);
        });
        const kernel = await this.killsSince(windowStart(samples, startedAt), gaps).catch((error: unknown) => {
          gaps.push(messageOf(error));
          return { kills: [], oomKillCount: null };
        });
        const oomKills = kernel.kills;
        for (const gap of gaps) this.options.log.warning(`host watch, burst ${burst.index + 1}: ${gap}`);
        // Warned about once, at start; the report still needs it.
        if (this.kernelLog.kind === 'unreadable') gaps.push(`kernel log not readable: ${this.kernelLog.reason}`);
        const figures = { ...burstFigures(samples), ...serviceFiguresOf(samples, this.services) };
        // Requests still running when the load stops can push the host over after the last sample.
        const countAtStart = samples[0]?.vmstat.oomKill ?? null;
        if (kernel.oomKillCount !== null && countAtStart !== null) {
          figures.oomKills = Math.max(figures.oomKills ?? 0, kernel.oomKillCount - countAtStart);
        }
        return {
          burstIndex: burst.index,
          target: burst.target,
          startedAt: startedAt.toISOString(),
          figures,
          oomKills,
          crashLines,
          generatorCpu: burst.generatorCpu,
          ...(speed !== undefined && typeof speed !== 'string' && { hostSpeed: speed }),
          flags: healthFlags({
            figures,
            oomKills,
            crashLines,
            generatorCpu: burst.generatorCpu,
            maxStealPercent: this.options.maxStealPercent,
          }),
          gaps,
        };
      },
    };
  }

  async beforeBurst(_index: number, _target: BurstTarget): Promise<void> {
    this.current = await this.beginBurst();
  }

  async afterBurst(result: BurstResult): Promise<void> {
    if (!this.current) throw new Error('afterBurst without beforeBurst');
    const watch = this.current;
    this.current = null;
    this.bursts.push(await watch.end(result));
  }

  /**
   * The kills since the burst began that no earlier burst named. The kernel counts a kill before it
   * logs it, and journald takes the line from the kernel when it next runs, which on a host
   * thrashing before the kill can be seconds later: while the count says more kills happened than
   * the log names, the log is read again, for up to KERNEL_LOG_LAG_MS.
   */
  private async killsSince(sinceEpochSec: number, gaps: string[]): Promise<{ kills: OomKill[]; oomKillCount: number | null }> {
    const known = this.oomKillCountAtLastRead;
    const fresh: OomKill[] = [];
    const deadline = Date.now() + KERNEL_LOG_LAG_MS;
    for (;;) {
      const read = await readKernelKills(this.host, this.kernelLog, sinceEpochSec, this.bootEpochSec, known);
      for (const kill of read.kills) {
        if (this.reportedKills.has(killKey(kill))) continue;
        this.reportedKills.add(killKey(kill));
        fresh.push(kill);
      }
      const unnamed = read.oomKillCount === null || known === null ? 0 : read.oomKillCount - known - fresh.length;
      if (unnamed <= 0 || this.kernelLog.kind === 'unreadable' || Date.now() >= deadline) {
        if (unnamed > 0 && this.kernelLog.kind !== 'unreadable') {
          gaps.push(`the kernel counted ${unnamed} more OOM kill(s) than its log named within ${KERNEL_LOG_LAG_MS / 1000} s`);
        }
        this.oomKillCountAtLastRead = read.oomKillCount;
        return { kills: fresh, oomKillCount: read.oomKillCount };
      }
      await new Promise((resolve) => setTimeout(resolve, KERNEL_LOG_POLL_MS));
    }
  }

  /** The probe's figures, or why there are none (a gap: a run is never failed for its probe). */
  private speedOf(output: readonly string[]): HostSpeedProbe | string {
    const probe = parseHostSpeed(output.join('\n'));
    if ('unsupported' in probe) {
      this.speedProbeFailed = true;
      return `host speed probe: ${probe.unsupported}; not tried again this run`;
    }
    this.speedProbeMib ??= probe.mib;
    return probe;
  }

  private async newCrashLines(gaps: string[]) {
    const { logsCommand } = this.options;
    if (!logsCommand) return scanCrashLines([]);
    const { lines, dropped } = await this.runLogsCommand(logsCommand);
    if (dropped) gaps.push(dropped);
    return scanCrashLines(lines);
  }

  /**
   * Runs the logs-command and returns the lines it had not printed before, and what of its output
   * was not read (its start, past the transport's tail of each stream).
   */
  private async runLogsCommand(command: string): Promise<{ lines: string[]; dropped?: string }> {
    const result = await this.host
      .exec(command, { timeLimitMs: this.options.logsCommandTimeLimitMs ?? LOGS_COMMAND_TIME_LIMIT_MS })
      .catch((error: unknown) => {
        throw new TargetError(error instanceof TargetError ? error.code : 'command-failed', `logs-command: ${messageOf(error)}`);
      });
    if (result.code !== 0) {
      this.options.log.warning(`host watch: logs-command exited with code ${result.code}: ${result.stderr.trim().split('\n')[0] ?? ''}`);
    }
    const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
    const dropped =
      result.droppedBytes === undefined
        ? undefined
        : `logs-command printed ${formatBytes(result.droppedBytes)} (${result.droppedBytes} bytes) more than loadgate reads: ` +
          `only the last ${formatBytes(OUTPUT_TAIL_BYTES)} of its output and of its errors were scanned`;
    return { lines: unseenLines(lines, this.seenLogLines), ...(dropped && { dropped }) };
  }
}

const SURVEY_SEPARATOR = '@@loadgate-survey@@';

/** Fingerprint, boot time, the OOM kill count and the kernel log probe, in that order, separated. */
const SURVEY_COMMAND = [
  MACHINE_COMMAND,
  `echo ${SURVEY_SEPARATOR}`,
  'grep ^btime /proc/stat',
  `echo ${SURVEY_SEPARATOR}`,
  "grep '^oom_kill ' /proc/vmstat",
  `echo ${SURVEY_SEPARATOR}`,
  KERNEL_LOG_PROBE_SCRIPT,
].join('\n');

/** The survey's parts; the last (the kernel log) is never split, whatever the log holds. */
function splitSurvey(stdout: string): string[] {
  const parts: string[] = [];
  let rest = stdout;
  for (let i = 0; i < 3; i += 1) {
    const at = rest.indexOf(`${SURVEY_SEPARATOR}\n`);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + SURVEY_SEPARATOR.length + 1);
  }
  return [...parts, rest];
}

/** The burst's window on the host's clock, falling back to ours when no sample came. */
function windowStart(samples: readonly HostSample[], startedAt: Date): number {
  const hostStart = samples[0]?.hostEpochSec;
  return (hostStart ?? startedAt.getTime() / 1000) - WINDOW_SLACK_SEC;
}

function killKey(kill: OomKill): string {
  return `${kill.pid} ${kill.name} ${kill.atEpochSec === null ? kill.line : Math.round(kill.atEpochSec)}`;
}
