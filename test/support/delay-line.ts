// A "remote" host on this machine for tests: a network namespace behind the user-space delay line
// (/work/shared/tools/delayline.py, see FIELD-NOTES "Simulating a remote host"), running
// test/support/delay-service.mjs at PREFIX.2 (startRemoteHost), or forwarding PREFIX.2 to a port on
// the loopback (delayedPort). The RTT and the service's behaviour change by file. Needs root.
// Traffic goes only to PREFIX.2, inside the namespace the test made, and to the loopback.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DELAY_LINE = '/work/shared/tools/delayline.py';
const SERVICE = new URL('./delay-service.mjs', import.meta.url).pathname;
const FORWARDER = new URL('./tcp-forward.mjs', import.meta.url).pathname;
const READY_TIMEOUT_MS = 20_000;

/** What the service does per request (delay-service.mjs). */
export type ServiceBehaviour = { tailShare?: number; tailMs?: number; close?: boolean } & (
  | { mode: 'sleep' | 'cpu'; ms: number }
  | { mode: 'mixed'; cpuMs: number; sleepMs: number }
);

export interface RemoteHost {
  url: string;
  /** The service's process, e.g. to put it in a CPU cgroup. */
  servicePid: number;
  setRttMs(ms: number): Promise<void>;
  setBehaviour(behaviour: ServiceBehaviour): Promise<void>;
  close(): Promise<void>;
}

function waitFor(child: ChildProcess, word: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} not ready within ${READY_TIMEOUT_MS} ms: ${seen}`)), READY_TIMEOUT_MS);
    const look = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(word)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${seen}`));
    });
  });
}

interface DelayLine {
  dir: string;
  setRttMs(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** The delay line up: namespace `ns`, PREFIX.2 inside it; `close()` takes it down. */
async function startDelayLine(ns: string, prefix: string, rttMs: number): Promise<DelayLine> {
  const dir = await mkdtemp(join(tmpdir(), `loadgate-${ns}-`));
  const rttFile = join(dir, 'rtt');
  await writeFile(rttFile, String(rttMs));
  const line = spawn('python3', [DELAY_LINE, 'up', '--ns', ns, '--prefix', prefix, '--rtt-ms', String(rttMs), '--control', rttFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const close = async () => {
    line.kill('SIGTERM');
    await new Promise((resolve) => (line.exitCode !== null ? resolve(undefined) : line.once('exit', resolve)));
    spawnSync('python3', [DELAY_LINE, 'down', '--ns', ns]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(line, 'ready', 'the delay line');
  } catch (error) {
    await close();
    throw error;
  }
  return {
    dir,
    // The delay line reads the file when it changes; a short pause lets packets in flight drain.
    setRttMs: async (ms) => {
      await writeFile(rttFile, String(ms));
      await new Promise((resolve) => setTimeout(resolve, 300));
    },
    close,
  };
}

/** Brings up namespace `ns` at `prefix`.2 with the service on `port`; always `close()` in after(). */
export async function startRemoteHost(ns: string, prefix: string, port: number, rttMs: number): Promise<RemoteHost> {
  const delayLine = await startDelayLine(ns, prefix, rttMs);
  const behaviourFile = join(delayLine.dir, 'behaviour.json');
  await writeFile(behaviourFile, JSON.stringify({ mode: 'sleep', ms: 10 }));
  let service: ChildProcess | undefined;
  let serviceStderr = '';
  /** A service that died would read as a slow or failing target: say so instead. */
  const alive = () => {
    if (service?.exitCode !== null || service.signalCode !== null) throw new Error(`the test service exited: ${serviceStderr}`);
  };
  const close = async () => {
    service?.kill('SIGKILL');
    await delayLine.close();
  };
  try {
    service = spawn('ip', ['netns', 'exec', ns, process.execPath, SERVICE, `${prefix}.2`, String(port), behaviourFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitFor(service, 'listening', 'the service in the namespace');
    service.stderr?.on('data', (chunk: Buffer) => (serviceStderr = (serviceStderr + chunk.toString()).slice(-2000)));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    url: `http://${prefix}.2:${port}/`,
    servicePid: service.pid!,
    setRttMs: async (ms) => {
      alive();
      await delayLine.setRttMs(ms);
    },
    setBehaviour: async (behaviour) => {
      alive();
      await writeFile(`${behaviourFile}.new`, JSON.stringify(behaviour));
      await rename(`${behaviourFile}.new`, behaviourFile);
    },
    close,
  };
}

export interface DelayedPort {
  /** `http://PREFIX.2:PORT`: the forwarded port, behind the delay line. */
  origin: string;
  setRttMs(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Puts `target` (a TCP port on this machine's loopback, e.g. qemu's hostfwd, which answers the
 * handshake itself) behind the delay line at PREFIX.2:`port`: a forwarder in the namespace accepts
 * there, after the delay, and reaches `target` through a unix socket and a forwarder outside, so
 * every byte and the handshake cross the delay line once each way (test/support/tcp-forward.mjs).
 */
export async function delayedPort(
  ns: string,
  prefix: string,
  port: number,
  target: { host: string; port: number },
  rttMs: number,
): Promise<DelayedPort> {
  const delayLine = await startDelayLine(ns, prefix, rttMs);
  const socket = join(delayLine.dir, 'forward.sock');
  const forwarders: ChildProcess[] = [];
  const close = async () => {
    for (const forwarder of forwarders) forwarder.kill('SIGKILL');
    await delayLine.close();
  };
  try {
    const outside = spawn(process.execPath, [FORWARDER, `unix:${socket}`, `${target.host}:${target.port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    forwarders.push(outside);
    await waitFor(outside, 'listening', 'the forwarder to the target');
    const inside = spawn('ip', ['netns', 'exec', ns, process.execPath, FORWARDER, `${prefix}.2:${port}`, `unix:${socket}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    forwarders.push(inside);
    await waitFor(inside, 'listening', 'the forwarder in the namespace');
  } catch (error) {
    await close();
    throw error;
  }
  return { origin: `http://${prefix}.2:${port}`, setRttMs: delayLine.setRttMs, close };
}
