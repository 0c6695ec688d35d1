// autocannon (8.0 and 9.0) mis-times every response from a server that closes the connection
// after answering — gunicorn's sync workers, anything sending `Connection: close`. Its client
// writes the next request on the closing socket, keeps that request queued across the
// reconnect, and times each later response from the older request: a 60 ms service measured
// p50 735 ms, and a +30 % slowdown on the 1 GiB VM read +1.8 %. Until autocannon honours
// `Connection: close` itself (docs/upstream/autocannon-connection-close.md, reproduced by
// bench/autocannon-connection-close.mjs), `honourConnectionClose` makes one client do so:
// - no request is written on a connection whose last response said it closes;
// - a request still unanswered when the connection ends was dropped by the server (a worker
//   killed mid-request): it is counted as a failed request, not silently forgotten;
// - each new connection starts with an empty queue and a fresh response parser.

//
// It is applied per client through autocannon's documented `setupClient` hook, which receives
// each client before its first connection: the client's own `_connect` and `_doRequest`
// shadow the prototype's, so autocannon's module stays untouched for anyone else in the process.
// Those two methods are still autocannon's private internals, hence the exact version pin in
// package.json and the check below, which fails at load, before any burst, when they are gone.

import autocannonPackage from 'autocannon/package.json' with { type: 'json' };
import Client from 'autocannon/lib/httpClient.js';

interface HeadersInfo {
  shouldKeepAlive: boolean;
}

/** The parts of autocannon's `lib/httpClient.js` client the fix relies on. */
interface AutocannonClient {
  destroyed: boolean;
  parser: { type: number; initialize(type: number): void };
  pipelinedRequests: { size(): number; clear(): void };
  on(event: 'headers', listener: (info: HeadersInfo) => void): void;
  emit(event: 'connError', error: Error): void;
  _connect(): void;
  _doRequest(): void;
}

const WRAPPED_METHODS = ['_connect', '_doRequest'] as const;

/** Throws, naming autocannon's version and the method, when a method the fix wraps is missing. */
export function assertWrappable(clientPrototype: object, autocannonVersion: string): void {
  for (const method of WRAPPED_METHODS) {
    if (typeof (clientPrototype as Record<string, unknown>)[method] !== 'function') {
      throw new Error(
        `autocannon ${autocannonVersion}'s lib/httpClient.js has no ${method}() method, which ` +
          'src/load/honour-connection-close.ts wraps so that servers closing connections are timed right: ' +
          'install the autocannon version pinned in package.json, or port the fix to this version.',
      );
    }
  }
}

assertWrappable((Client as { prototype: object }).prototype, autocannonPackage.version);

/** A `setupClient` for autocannon: the client honours `Connection: close` (see the top of this file). */
export const honourConnectionClose =
  () =>
  (autocannonClient: unknown): void => {
    const client = autocannonClient as AutocannonClient;
    const connect = client._connect;
    const doRequest = client._doRequest;
    /** Set from the last response's headers; cleared by the next connection. */
    let closingConnection = false;
    client.on('headers', (info) => {
      if (!info.shouldKeepAlive) closingConnection = true;
    });
    client._connect = function connectAfterClose(this: AutocannonClient) {
      const unanswered = this.pipelinedRequests.size();
      if (unanswered > 0 && !this.destroyed) {
        for (let i = 0; i < unanswered; i += 1) {
          this.emit('connError', new Error('the server closed the connection before answering the request'));
        }
      }
      this.pipelinedRequests.clear();
      this.parser.initialize(this.parser.type);
      closingConnection = false;
      connect.call(this);
    };
    client._doRequest = function doRequestUnlessClosing(this: AutocannonClient) {
      if (closingConnection) return;
      doRequest.call(this);
    };
  };
