// A small HTTP service with a controllable latency, on 127.0.0.1. The demo measures it, and the
// tests use it as their load target, so both exercise the same real sockets.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TargetBehaviour {
  /** Service time per request in milliseconds (timer based, so it does not load the CPU). */
  delayMs: number;
  /** Extra uniformly random delay in [0, jitterMs). */
  jitterMs?: number;
  /** Share of requests that wait `tailDelayMs` more: a slow tail that moves p95 and leaves p50. */
  tailShare?: number;
  tailDelayMs?: number;
  /** Share of requests answered with 500 instead of 200. */
  errorShare?: number;
}

export interface DemoTarget {
  url: string;
  /** Requests received so far, on any path. */
  readonly requests: number;
  /** Server-side truth: median time from request to response end (ms) since the last call. */
  takeServiceMedianMs(): number;
  behaviour: TargetBehaviour;
  close(): Promise<void>;
}

export async function startTarget(behaviour: TargetBehaviour, port = 0): Promise<DemoTarget> {
  let requests = 0;
  let serviceTimes: number[] = [];
  const target = {
    url: '',
    get requests() {
      return requests;
    },
    takeServiceMedianMs() {
      const sorted = serviceTimes.sort((a, b) => a - b);
      serviceTimes = [];
      return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
    },
    behaviour,
    close: () => closeServer(server),
  };
  const server: Server = createServer((request, response) => {
    requests += 1;
    const arrived = performance.now();
    const { delayMs, jitterMs = 0, errorShare = 0, tailShare = 0, tailDelayMs = 0 } = target.behaviour;
    const wait = delayMs + Math.random() * jitterMs + (Math.random() < tailShare ? tailDelayMs : 0);
    request.resume();
    const answer = () => {
      const failed = Math.random() < errorShare;
      response.writeHead(failed ? 500 : 200, { 'content-type': 'application/json' });
      response.end(failed ? '{"error":"injected"}' : '{"ok":true}');
      // Bounded so a long demo cannot grow it without limit.
      if (serviceTimes.length < 1_000_000) serviceTimes.push(performance.now() - arrived);
    };
    if (wait > 0) setTimeout(answer, wait);
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return target;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
