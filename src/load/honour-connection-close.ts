// autocannon (8.0 and 9.0) mis-times every response from a server that closes the connection
// after answering — gunicorn's sync workers, anything sending `Connection: close`. Its client
// writes the next request on the closing socket, keeps that request queued across the
// reconnect, and times each later response from the older request: a 60 ms service measured
// p50 735 ms, and a +30 % slowdown on the 1 GiB VM read +1.8 %. Until autocannon honours
// `Connection: close` itself, this makes its client do so:
// - no request is written on a connection whose last response said it closes;
// - a request still unanswered when the connection ends was dropped by the server (a worker
//   killed mid-request): it is counted as a failed request, not silently forgotten;
// - each new connection starts with an empty queue and a fresh response parser.

import Client from 'autocannon/lib/httpClient.js';

interface HeadersInfo {
  shouldKeepAlive: boolean;
}

interface AutocannonClient {
  destroyed: boolean;
  parser: { type: number; initialize(type: number): void };
  pipelinedRequests: { size(): number; clear(): void };
  on(event: 'headers', listener: (info: HeadersInfo) => void): void;
  emit(event: 'connError', error: Error): void;
  _connect(): void;
  _doRequest(): void;
  /** Set from the last response's headers; cleared by the next connection. */
  closingConnection?: boolean;
  watchingConnectionClose?: boolean;
}

const prototype = (Client as unknown as { prototype: AutocannonClient }).prototype;
const originalConnect = prototype._connect;
const originalDoRequest = prototype._doRequest;

prototype._connect = function connect(this: AutocannonClient) {
  if (!this.watchingConnectionClose) {
    this.watchingConnectionClose = true;
    this.on('headers', (info) => {
      if (!info.shouldKeepAlive) this.closingConnection = true;
    });
  }
  const unanswered = this.pipelinedRequests.size();
  if (unanswered > 0 && !this.destroyed) {
    for (let i = 0; i < unanswered; i += 1) {
      this.emit('connError', new Error('the server closed the connection before answering the request'));
    }
  }
  this.pipelinedRequests.clear();
  this.parser.initialize(this.parser.type);
  this.closingConnection = false;
  originalConnect.call(this);
};

prototype._doRequest = function doRequest(this: AutocannonClient) {
  if (this.closingConnection) return;
  originalDoRequest.call(this);
};
