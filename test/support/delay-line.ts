// A "remote" host on this machine for tests: a network namespace behind the user-space delay line
// (/work/shared/tools/delayline.py, see FIELD-NOTES "Simulating a remote host"), running
// test/support/delay-service.mjs at PREFIX.2. The RTT and the service's behaviour change by file.
// Needs root. Traffic goes only to PREFIX.2, inside the namespace the test made.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DELAY_LINE = '/work/shared/tools/delayline.py';
const SERVICE = new URL('./delay-service.mjs', import.meta.url).pathname;
const READY_TIMEOUT_MS = 20_000;

export interface RemoteHost {
  url: string;
  setRttMs(ms: number): Promise<void>;
  setBehaviour(behaviour: { mode: 'sleep' | 'cpu'; ms: number }): Promise<void>;
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

/** Brings up namespace `ns` at `prefix`.2 with the service on `port`; always `close()` in after(). */
export async function startRemoteHost(ns: string, prefix: string, port: number, rttMs: number): Promise<RemoteHost> {
  const dir = await mkdtemp(join(tmpdir(), `loadgate-${ns}-`));
  const rttFile = join(dir, 'rtt');
  const behaviourFile = join(dir, 'behaviour.json');
  await writeFile(rttFile, String(rttMs));
  await writeFile(behaviourFile, JSON.stringify({ mode: 'sleep', ms: 10 }));
  const line = spawn('python3', [DELAY_LINE, 'up', '--ns', ns, '--prefix', prefix, '--rtt-ms', String(rttMs), '--control', rttFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let service: ChildProcess | undefined;
  let serviceStderr = '';
  /** A service that died would read as a slow or failing target: say so instead. */
  const alive = () => {
    if (service?.exitCode !== null || service.signalCode !== null) throw new Error(`the test service exited: ${serviceStderr}`);
  };
  const close = async () => {
    service?.kill('SIGKILL');
    line.kill('SIGTERM');
    await new Promise((resolve) => (line.exitCode !== null ? resolve(undefined) : line.once('exit', resolve)));
    spawnSync('python3', [DELAY_LINE, 'down', '--ns', ns]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(line, 'ready', 'the delay line');
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
    // The delay line reads the file when it changes; a short pause lets packets in flight drain.
    setRttMs: async (ms) => {
      alive();
      await writeFile(rttFile, String(ms));
      await new Promise((resolve) => setTimeout(resolve, 300));
    },
    setBehaviour: async (behaviour) => {
      alive();
      await writeFile(`${behaviourFile}.new`, JSON.stringify(behaviour));
      await rename(`${behaviourFile}.new`, behaviourFile);
    },
    close,
  };
}
