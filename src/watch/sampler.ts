// Runs the remote sampler for one burst and collects its samples.

import type { Log } from '../log.ts';
import type { RemoteHost } from '../remote/remote-host.ts';
import { parseSampleLine, samplerCommand, type HostSample, type SampledServices } from './sample-line.ts';
import { messageOf } from '../errors.ts';

export interface RunningSampler {
  readonly samples: readonly HostSample[];
  /** What `first` printed (samplerCommand): the lines before the first sample. */
  readonly firstOutput: readonly string[];
  /** Waits for the next sample; null when none came within the time or the sampler has ended. */
  nextSample(timeoutMs: number): Promise<HostSample | null>;
  /** Why the sampler ended before it was stopped, if it did. */
  readonly endedEarly: string | null;
  /**
   * Ends the remote sampler; its process exits on the closed channel, printing one last sample as
   * it goes. Resolves with that sample, or null when none came (it had ended, or died too fast).
   */
  stop(): Promise<HostSample | null>;
}

/**
 * The last sample follows the burst at once, so it can land just after a tick. A tick less than
 * this before it is dropped (never the first sample): the series stays about one per second, and
 * the last sample says what the host looked like then anyway.
 */
const MIN_SPACING_SEC = 0.5;

export function startSampler(host: RemoteHost, log: Log, services: SampledServices = {}, first?: string): RunningSampler {
  const samples: HostSample[] = [];
  const firstOutput: string[] = [];
  const waiting = new Set<(sample: HostSample | null) => void>();
  let ended = false;
  let endedEarly: string | null = null;
  let stopping = false;
  let last: HostSample | null = null;
  const release = (sample: HostSample | null) => {
    for (const resolve of waiting) resolve(sample);
    waiting.clear();
  };

  const remote = host.spawn(samplerCommand(services, first));
  remote.onLine((line) => {
    const sample = parseSampleLine(line);
    if (!sample && first && samples.length === 0) {
      firstOutput.push(line);
      return;
    }
    if (!sample) {
      log.debug(`host sampler: ignored line ${JSON.stringify(line.slice(0, 200))}`);
      return;
    }
    if (stopping) {
      const previous = samples.at(-1);
      if (samples.length > 1 && previous && sample.uptimeSec - previous.uptimeSec < MIN_SPACING_SEC) samples.pop();
      last = sample;
    }
    samples.push(sample);
    release(sample);
  });
  remote.exited.then(
    (code) => settleEnd(code === null ? 'the connection dropped' : `it exited with code ${code}`),
    (error: unknown) => settleEnd(messageOf(error)),
  );
  function settleEnd(reason: string) {
    ended = true;
    if (!stopping) endedEarly = `the host sampler ended early: ${reason}`;
    release(null);
  }

  return {
    samples,
    firstOutput,
    get endedEarly() {
      return endedEarly;
    },
    nextSample(timeoutMs) {
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(settle);
          resolve(null);
        }, timeoutMs);
        const settle = (sample: HostSample | null) => {
          clearTimeout(timer);
          resolve(sample);
        };
        waiting.add(settle);
      });
    },
    async stop() {
      stopping = true;
      await remote.stop();
      return last;
    },
  };
}
