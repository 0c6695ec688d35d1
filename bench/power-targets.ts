// The parent's handle on the power benchmark's two services (bench/power-target-server.ts):
// start them in a child process, set their behaviours before a run, stop them.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TargetBehaviour } from '../src/demo/target.ts';
import type { BehaviourMessage, ReadyMessage } from './power-target-server.ts';

const SERVER = fileURLToPath(new URL('./power-target-server.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;

export interface TargetPair {
  baselineUrl: string;
  candidateUrl: string;
  set(baseline: TargetBehaviour, candidate: TargetBehaviour): Promise<void>;
  stop(): Promise<void>;
}

function nextMessage<T>(child: ChildProcess, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`the target process did not answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown) => finish(undefined, message as T);
    const onExit = (code: number | null) => finish(new Error(`the target process exited (code ${code})`));
    function finish(error?: Error, message?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message as T);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export async function startTargetPair(): Promise<TargetPair> {
  const child = fork(SERVER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let ready: ReadyMessage;
  try {
    ready = await nextMessage<ReadyMessage>(child, START_TIMEOUT_MS);
  } catch (error) {
    child.kill();
    throw error;
  }
  let id = 0;
  return {
    ...ready,
    async set(baseline, candidate) {
      id += 1;
      const answer = nextMessage<{ id: number }>(child, 5_000);
      child.send({ id, baseline, candidate } satisfies BehaviourMessage);
      if ((await answer).id !== id) throw new Error('the target process answered out of turn');
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      const timer = setTimeout(() => child.kill(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
