// `rate` as an open loop: each connection sends on a fixed schedule, not when its last answer
// came. autocannon's own `overallRate` is a per-second budget: a connection sends back to back
// until the second's share is spent, then pauses, so a short round trip still brings the requests
// in as a burst and the service queues as under a closed loop (measured through the delay line:
// 4 connections at `rate: 100` on a CPU-bound 2 ms handler, service p50 4.0 ms at RTT 4.8 ms and
// 2.4 ms at 24.7 ms). Paced, the arrivals do not depend on the network, so neither does the
// service's queueing, as long as each connection's answer comes within its send interval.
//
// Connection i of n sends at t₀ + i·interval/n + k·interval (interval = n ÷ rate): the overall
// arrivals are evenly spaced. A send whose slot has passed (the answer came late) goes at once and
// the slots it missed are skipped, not caught up: burst.ts back-fills them in the histogram
// (coordinated omission), which assumes exactly that. Through autocannon's `setupClient` hook, the
// same private `_doRequest` as honour-connection-close.ts wraps (version pinned there).

interface PacedClient {
  destroyed: boolean;
  pipelinedRequests: { size(): number };
  opts: { pipelining: number };
  on(event: 'done', listener: () => void): void;
  _doRequest(): void;
}

export interface Pacer {
  /** Each connection's time between sends. */
  intervalMs: number;
  /** The `setupClient` step. */
  setupClient(client: unknown): void;
}

/** Paces each of `connections` clients to `rate / connections` requests per second. */
export function paceRequests(rate: number, connections: number): Pacer {
  const intervalMs = (1000 * connections) / rate;
  const started = performance.now();
  let clients = 0;
  const setupClient = (autocannonClient: unknown) => {
    const client = autocannonClient as PacedClient;
    const send = client._doRequest;
    let nextSlot = started + (clients * intervalMs) / connections;
    clients += 1;
    const waiting = new Set<ReturnType<typeof setTimeout>>();
    client.on('done', () => {
      for (const timer of waiting) clearTimeout(timer);
      waiting.clear();
    });
    client._doRequest = function pacedRequest(this: PacedClient) {
      // A reconnect asks for a request that an answer already scheduled: one in flight per slot.
      if (waiting.size + this.pipelinedRequests.size() >= this.opts.pipelining) return;
      const now = performance.now();
      const slot = Math.max(nextSlot, now);
      nextSlot = slot + intervalMs;
      if (slot <= now) return send.call(this);
      const timer = setTimeout(() => {
        waiting.delete(timer);
        if (!this.destroyed) send.call(this);
      }, slot - now);
      waiting.add(timer);
    };
  };
  return { intervalMs, setupClient };
}
