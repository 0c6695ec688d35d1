// Counts the connections a burst opens and the handshake round trips its requests' latencies
// hold. autocannon times a request from its write. Closed-loop, it writes a new connection's first
// request before the handshakes complete, so that latency holds them: the TCP handshake, one round
// trip, and over HTTPS the TLS handshake too, one more round trip with TLS 1.3 or a resumed session,
// two with a full TLS 1.2 handshake (Node's client does no early data or false start). Paced
// (`rate`), a reconnect usually completes while the request waits for its send slot, and then its
// latency holds none: measured through the delay line against a TLS server closing every
// connection, p50 was 20 ms + 1 RTT paced, 20 ms + 3 RTTs closed-loop. So what counts is whether
// the handshakes were still under way when the first request was written. verdict/service-time.ts
// takes them out of service time. Through autocannon's `setupClient` hook, the same private
// `_connect` and `_doRequest` as honour-connection-close.ts wraps (version pinned there).

import type { TLSSocket } from 'node:tls';

/** What a burst's connections cost; the tally is shared by every client of one burst. */
export interface HandshakeTally {
  /** Connections opened. */
  connections: number;
  /** First requests written on a connection whose handshakes were still under way. */
  requestsBehindHandshakes: number;
  /** The round trips of the handshakes those requests waited for, TCP and TLS (a part-way wait in part). */
  roundTrips: number;
}

export function emptyHandshakeTally(): HandshakeTally {
  return { connections: 0, requestsBehindHandshakes: 0, roundTrips: 0 };
}

interface HandshakingSocket {
  encrypted?: boolean;
  once(event: 'connect' | 'secureConnect', listener: () => void): void;
}

interface ConnectingClient {
  conn?: HandshakingSocket;
  _connect(): void;
  _doRequest(): void;
}

/** The TLS handshake's round trips, from the negotiated version. */
export function tlsRoundTrips(socket: Pick<TLSSocket, 'getProtocol' | 'isSessionReused'>): number {
  return socket.getProtocol() === 'TLSv1.3' || socket.isSessionReused() ? 1 : 2;
}

/**
 * A `setupClient` step adding each connection a client opens, and the handshakes its first
 * request waited for, to `tally`. A request written part-way through the handshakes waited for
 * that part: it counts the share of their round trips still to go (by time). Set up before a step
 * that defers `_doRequest` (the pacer), so that it sees the write itself.
 */
export function countHandshakes(tally: HandshakeTally): (client: unknown) => void {
  return (autocannonClient) => {
    const client = autocannonClient as ConnectingClient;
    const connect = client._connect;
    const doRequest = client._doRequest;
    // Of the client's current connection: autocannon writes the first requests from inside
    // `_connect`, before it returns the socket to us, and the handshakes cannot end before then.
    let openedAt = 0;
    let opening = false;
    let handshaking = false;
    let written = false;
    const completion = (socket: HandshakingSocket) => (socket.encrypted ? 'secureConnect' : 'connect');
    client._connect = function countedConnect(this: ConnectingClient) {
      openedAt = performance.now();
      handshaking = true;
      written = false;
      opening = true;
      connect.call(this);
      opening = false;
      tally.connections += 1;
      const socket = this.conn;
      socket?.once(completion(socket), () => {
        if (this.conn === socket) handshaking = false;
      });
    };
    client._doRequest = function countedRequest(this: ConnectingClient) {
      const socket = this.conn;
      if (socket && !written) {
        written = true;
        if (handshaking) {
          const opened = openedAt;
          // Written as the connection opened, it waits for all of them.
          const writtenAt = opening ? opened : performance.now();
          tally.requestsBehindHandshakes += 1;
          socket.once(completion(socket), () => {
            const done = performance.now();
            const roundTrips = 1 + (socket.encrypted ? tlsRoundTrips(socket as unknown as TLSSocket) : 0);
            tally.roundTrips += done > opened ? (roundTrips * (done - writtenAt)) / (done - opened) : roundTrips;
          });
        }
      }
      doRequest.call(this);
    };
  };
}
