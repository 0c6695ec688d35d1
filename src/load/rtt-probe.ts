// The network round trip to the target: the time of a TCP handshake to the host:port that `url`
// resolves to, connect only, no request. The handshake is answered by the target's kernel, so the
// service's load does not enter it. Behind a load balancer or proxy it measures to the balancer.
// A probe that cannot connect (refused, a connection limit, a timeout) is counted, never thrown:
// the probe never fails a run.

import { lookup } from 'node:dns/promises';
import { getMaxListeners, setMaxListeners } from 'node:events';
import { connect } from 'node:net';

/**
 * Samples taken during one burst, spread over it. The burst's RTT (their median) comes off its
 * latencies once, or twice or three times for requests that paid handshakes (service-time.ts), so
 * its error does too: 15, not 5, halved that error through the delay line (0.16 → 0.09 ms at 30 ms).
 */
export const SAMPLES_PER_BURST = 15;
/** Samples taken once before the first burst. */
export const SAMPLES_BEFORE = 3;
/** A handshake slower than this is counted as failed: no RTT worth subtracting takes 1 s. */
const CONNECT_TIMEOUT_MS = 1_000;
const BURST_ENDED = 'no handshake before the burst ended';

/** What the probe measured over one burst (or before the first). */
export interface RttFigures {
  /** Milliseconds; undefined when no handshake succeeded. */
  minMs?: number;
  medianMs?: number;
  samples: number;
  /** Handshakes that failed (refused, reset, timed out); `failure` says why, for the first one. */
  failed: number;
  failure?: string;
}

export interface RttTarget {
  host: string;
  port: number;
}

/** The host:port a URL's requests connect to (no proxy support in the load engine, so this is it). */
export function rttTargetOf(url: string): RttTarget {
  const parsed = new URL(url);
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export function rttFiguresOf(timesMs: readonly number[], failures: readonly string[]): RttFigures {
  const round = (ms: number) => Number(ms.toFixed(3));
  return {
    minMs: timesMs.length ? round(Math.min(...timesMs)) : undefined,
    medianMs: timesMs.length ? round(median([...timesMs])) : undefined,
    samples: timesMs.length,
    failed: failures.length,
    failure: failures[0],
  };
}

/** One handshake's time in ms, or the reason it failed; `stop` abandons it (then it failed). */
function handshake(address: string, port: number, stop?: AbortSignal): Promise<number | string> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: address, port, noDelay: true });
    const finish = (result: number | string) => {
      stop?.removeEventListener('abort', abandon);
      socket.destroy();
      resolve(result);
    };
    const abandon = () => finish(BURST_ENDED);
    stop?.addEventListener('abort', abandon);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => finish(`no handshake within ${CONNECT_TIMEOUT_MS / 1000} s`));
    socket.once('connect', () => finish(performance.now() - started));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}

/** Waits `ms`; false when `stop` came first. */
function sleep(ms: number, stop: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve(false);
    const timer = setTimeout(() => {
      stop.removeEventListener('abort', early);
      resolve(true);
    }, ms);
    const early = () => {
      clearTimeout(timer);
      resolve(false);
    };
    stop.addEventListener('abort', early, { once: true });
  });
}

/** Resolves the name once, so the samples time the handshake and not DNS. */
async function addressOf(target: RttTarget): Promise<string> {
  return (await lookup(target.host)).address;
}

/** `count` handshakes, one after another; stops at the first that times out, so a silent target costs one timeout. */
export async function probeNow(target: RttTarget, count = SAMPLES_BEFORE): Promise<RttFigures> {
  let address: string;
  try {
    address = await addressOf(target);
  } catch (error) {
    return rttFiguresOf([], [`cannot resolve ${target.host}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`]);
  }
  const times: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const result = await handshake(address, target.port);
    if (typeof result === 'number') times.push(result);
    else failures.push(result);
    if (typeof result === 'string' && result.startsWith('no handshake')) break;
  }
  return rttFiguresOf(times, failures);
}

/**
 * `count` handshakes spread evenly over a burst of `durationMs` that starts now: at the middle of
 * each of `count` equal slices, so the samples see the start, the middle and the end of the load.
 * `burstEnded` cuts the probe short, so it never makes a burst longer: samples not yet started are
 * dropped, handshakes still open count as failed.
 */
export async function probeDuring(
  target: RttTarget,
  durationMs: number,
  burstEnded: AbortSignal,
  count = SAMPLES_PER_BURST,
): Promise<RttFigures> {
  let address: string;
  try {
    address = await addressOf(target);
  } catch (error) {
    return rttFiguresOf([], [`cannot resolve ${target.host}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`]);
  }
  // Each sample waits on `burstEnded` at once; past Node's default of 10 it warns of a leak in the user's log.
  setMaxListeners(getMaxListeners(burstEnded) + count, burstEnded);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const due = await sleep(Math.max(0, (durationMs * (i + 0.5)) / count - (performance.now() - started)), burstEnded);
      return due ? handshake(address, target.port, burstEnded) : undefined;
    }),
  );
  return rttFiguresOf(
    results.filter((r): r is number => typeof r === 'number'),
    results.filter((r): r is string => typeof r === 'string'),
  );
}
