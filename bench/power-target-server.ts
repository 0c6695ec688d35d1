// Child process of the power benchmark: the baseline and candidate services, each a demo target
// on 127.0.0.1, in a process of their own so the load generator does not share their event loop.
// The parent sets both behaviours before each run over IPC and gets an acknowledgement back.

import { startTarget, type TargetBehaviour } from '../src/demo/target.ts';

export interface BehaviourMessage {
  id: number;
  baseline: TargetBehaviour;
  candidate: TargetBehaviour;
}

export interface ReadyMessage {
  baselineUrl: string;
  candidateUrl: string;
}

if (!process.send) throw new Error('power-target-server runs as a child process with an IPC channel');

const idle: TargetBehaviour = { delayMs: 0 };
const baseline = await startTarget({ ...idle });
const candidate = await startTarget({ ...idle });

process.on('message', (message: BehaviourMessage) => {
  baseline.behaviour = message.baseline;
  candidate.behaviour = message.candidate;
  process.send?.({ id: message.id });
});
process.on('disconnect', () => {
  void Promise.all([baseline.close(), candidate.close()]).then(() => process.exit(0));
});
process.send({ baselineUrl: baseline.url, candidateUrl: candidate.url } satisfies ReadyMessage);
