// `load-processes: N`: one burst driven by N child processes, for targets faster than one core
// of autocannon can load. Each child runs `measureBurstInProcess` on its share of the connections
// (and of the rate) and sends back its `BurstSample`; the caller merges them exactly.
//
// Children run the worker entry, never the action or the CLI: from source (tsx, tests, GitHub's
// local runner) src/load/load-worker.ts with the parent's loader flags, from the bundle
// dist/load-worker.js, built beside dist/index.js and dist/cli.js. autocannon's own `workers`
// option cannot be used: it breaks in a bundle and emits no `response` events.

import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureBurstInProcess, type BurstSample, type BurstSpec } from './burst.ts';
import { messageOf } from '../errors.ts';

/** Loading the worker (a cold tsx compile on a busy machine is the slow case). */
const READY_TIMEOUT_MS = 30_000;
/** Beyond duration + request timeout, what a child may take to close its connections and report. */
const FINISH_MARGIN_MS = 10_000;
const STDERR_TAIL_CHARS = 2_000;

type ToWorker = { kind: 'spec'; spec: BurstSpec } | { kind: 'go' };
type FromWorker = { kind: 'ready' } | { kind: 'sample'; sample: BurstSample } | { kind: 'failed'; message: string };

/** Each process's share: connections as even as possible (3 on 2 = 2 + 1), rate in proportion. */
export function splitSpec(spec: BurstSpec, processes: number): BurstSpec[] {
  if (!Number.isInteger(processes) || processes < 1) throw new Error(`load processes must be a positive integer (got ${processes})`);
  if (processes > spec.connections) {
    throw new Error(`${processes} load processes need at least as many connections (got ${spec.connections})`);
  }
  const base = Math.floor(spec.connections / processes);
  const extra = spec.connections % processes;
  return Array.from({ length: processes }, (_, i) => {
    const connections = base + (i < extra ? 1 : 0);
    const rate = spec.rate === undefined ? undefined : (spec.rate * connections) / spec.connections;
    return { ...spec, connections, rate };
  });
}

/** The child's side: receive the spec, say ready, measure on "go", send the sample, exit. */
export function serveLoadWorker(): void {
  const send = (message: FromWorker) => new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));
  let spec: BurstSpec | undefined;
  process.on('message', (message: ToWorker) => {
    if (message.kind === 'spec') {
      spec = message.spec;
      void send({ kind: 'ready' });
      return;
    }
    if (message.kind === 'go' && spec) {
      measureBurstInProcess(spec)
        .then((sample) => send({ kind: 'sample', sample }))
        .catch((error: unknown) => send({ kind: 'failed', message: messageOf(error) }))
        .finally(() => process.exit(0));
    }
  });
  // The parent going away (killed, crashed) must not leave a generator running.
  process.on('disconnect', () => process.exit(1));
}

function forkWorker(): ChildProcess {
  const self = fileURLToPath(import.meta.url);
  const stdio: ['ignore', 'ignore', 'pipe', 'ipc'] = ['ignore', 'ignore', 'pipe', 'ipc'];
  if (self.endsWith('.ts')) {
    // Source run: the parent's execArgv carries the TypeScript loader.
    return fork(fileURLToPath(new URL('./load-worker.ts', import.meta.url)), [], { execArgv: process.execArgv, stdio });
  }
  // Bundle: this file is dist/index.js or dist/cli.js, and build.mjs puts the worker's bundle beside it.
  return fork(join(dirname(self), 'load-worker.js'), [], { execArgv: [], stdio });
}

interface Worker {
  child: ChildProcess;
  label: string;
  next: () => Promise<FromWorker>;
}

function startWorker(index: number, total: number): Worker {
  const child = forkWorker();
  const label = `load process ${index + 1} of ${total} (pid ${child.pid})`;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  const inbox: FromWorker[] = [];
  let waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  let gone: Error | undefined;
  child.on('message', (message: FromWorker) => {
    if (waiting) {
      waiting.resolve(message);
      waiting = undefined;
    } else inbox.push(message);
  });
  const fail = (error: Error) => {
    gone ??= error;
    waiting?.reject(gone);
    waiting = undefined;
  };
  child.on('error', (error) => fail(new Error(`${label} could not run: ${error.message}`)));
  child.on('exit', (code, signal) => {
    // Let a message that raced the exit arrive first.
    setImmediate(() => {
      const tail = stderr.trim() ? `: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : '';
      fail(new Error(`${label} exited (${signal ?? `code ${code}`}) before reporting its burst${tail}`));
    });
  });
  const next = () =>
    inbox.length > 0
      ? Promise.resolve(inbox.shift()!)
      : gone
        ? Promise.reject(gone)
        : new Promise<FromWorker>((resolve, reject) => (waiting = { resolve, reject }));
  return { child, label, next };
}

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

async function receive<K extends FromWorker['kind']>(worker: Worker, kind: K): Promise<Extract<FromWorker, { kind: K }>> {
  const message = await worker.next();
  if (message.kind === 'failed') throw new Error(`${worker.label} failed: ${message.message}`);
  if (message.kind !== kind) throw new Error(`${worker.label} sent ${message.kind}, expected ${kind}`);
  return message as Extract<FromWorker, { kind: K }>;
}

/**
 * Runs one burst on `processes` child processes started together; returns one sample per process.
 * Rejects (and kills every child) when one dies, fails, or overruns the burst by a margin.
 */
export async function measureBurstInProcesses(spec: BurstSpec, processes: number): Promise<BurstSample[]> {
  const shares = splitSpec(spec, processes);
  const workers = shares.map((_, i) => startWorker(i, processes));
  try {
    for (const [i, worker] of workers.entries()) worker.child.send({ kind: 'spec', spec: shares[i] } satisfies ToWorker);
    await withDeadline(
      Promise.all(workers.map((worker) => receive(worker, 'ready'))),
      READY_TIMEOUT_MS,
      `the ${processes} load processes were not ready within ${READY_TIMEOUT_MS / 1000} s`,
    );
    for (const worker of workers) worker.child.send({ kind: 'go' } satisfies ToWorker);
    const limitMs = spec.durationMs + spec.timeoutMs + FINISH_MARGIN_MS;
    const samples = await withDeadline(
      Promise.all(workers.map((worker) => receive(worker, 'sample'))),
      limitMs,
      `the load processes did not finish a ${spec.durationMs} ms burst within ${limitMs / 1000} s; they were killed`,
    );
    return samples.map((message) => message.sample);
  } finally {
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    }
  }
}
