// The target host for one run, in the order an operator would: connect (host key verified),
// take the lock, make sure swap is there, start watching. Closing releases everything; the lock
// also goes when the connection drops, since the remote flock dies with its SSH channel.

import type { RunContext } from '../config/run-context.ts';
import type { Settings } from '../config/settings.ts';
import type { BurstObserver } from '../load/series.ts';
import type { Log } from '../log.ts';
import { HostWatch } from '../watch/host-watch.ts';
import type { HostMachine } from '../watch/machine.ts';
import { acquireLock } from '../remote/lock.ts';
import type { RemoteHost } from '../remote/remote-host.ts';
import { connectTarget } from '../remote/ssh.ts';
import { ensureSwap, type SwapReport } from '../remote/swap.ts';

/** What the report says about the host before any burst. */
export interface HostReport {
  address: string;
  /** The SSH host key's `SHA256:…` fingerprint. */
  hostKeyFingerprint: string;
  /** The machine (CPU, memory, kernel); named `fingerprint` in report files already written. */
  fingerprint: HostMachine;
  swap: SwapReport;
}

export interface TargetSession {
  watch: HostWatch;
  /** Brackets every burst with the watch, and fails the run once the SSH link has dropped. */
  observer: BurstObserver;
  hostReport: HostReport;
  close(): Promise<void>;
}

export async function openTarget(settings: Settings, context: RunContext, log: Log): Promise<TargetSession> {
  const ssh = settings.ssh!;
  const host: RemoteHost = await connectTarget(ssh, log);
  let dropped: Error | undefined;
  host.onDisconnect((error) => {
    dropped = new Error(
      `the SSH connection to ${ssh.host}:${ssh.port} dropped during the run (${error.message}); the host was not watched to the end`,
    );
    log.warning(dropped.message);
  });
  const failIfDropped = () => {
    if (dropped) throw dropped;
  };
  let release: (() => Promise<void>) | undefined;
  try {
    if (settings.lock.enabled) {
      const lock = await acquireLock(
        host,
        {
          timeoutMs: settings.lock.timeoutMs,
          holder: { runId: context.runId ?? `local-${process.pid}`, repository: context.repository ?? 'local' },
        },
        log,
      );
      release = () => lock.release();
    }
    const swap = await ensureSwap(host, settings.swap, log);
    const services = { service: settings.watch.service, baselineService: settings.watch.baselineService };
    const watch = await HostWatch.start(host, {
      logsCommand: settings.watch.logsCommand,
      services,
      speedProbe: settings.watch.speedProbe,
      maxStealPercent: settings.watch.maxStealPercent,
      log,
    });
    return {
      watch,
      observer: {
        async beforeBurst(index, target) {
          failIfDropped();
          await watch.beforeBurst(index, target);
        },
        async afterBurst(result) {
          await watch.afterBurst(result);
          failIfDropped();
        },
      },
      hostReport: { address: `${ssh.host}:${ssh.port}`, hostKeyFingerprint: host.hostKeyFingerprint, fingerprint: watch.machine, swap },
      async close() {
        await release?.().catch((error: unknown) => log.warning(`releasing the host lock: ${String(error)}`));
        await host.close();
      },
    };
  } catch (error) {
    await release?.().catch(() => undefined);
    await host.close().catch(() => undefined);
    throw error;
  }
}
