// Counts the connections a burst opens and the round trips their handshakes cost. autocannon
// writes a new connection's first request before the handshakes complete, so that request's
// latency holds them: the TCP handshake, one round trip, and over HTTPS the TLS handshake too, one
// more round trip with TLS 1.3 or a resumed session, two with a full TLS 1.2 handshake (Node's
// client does no early data or false start). verdict/service-time.ts takes them out of service
// time. Through autocannon's `setupClient` hook, the same private `_connect` as
// honour-connection-close.ts wraps (version pinned there).

import type { TLSSocket } from 'node:tls';

/** What a burst's connections cost; the tally is shared by every client of one burst. */
export interface HandshakeTally {
  connections: number;
  /** Round trips of all their handshakes together, TCP and TLS. */
  roundTrips: number;
}

interface ConnectingClient {
  conn?: { encrypted?: boolean; once(event: 'secureConnect', listener: () => void): void };
  _connect(): void;
}

/** The TLS handshake's round trips, from the negotiated version. */
export function tlsRoundTrips(socket: Pick<TLSSocket, 'getProtocol' | 'isSessionReused'>): number {
  return socket.getProtocol() === 'TLSv1.3' || socket.isSessionReused() ? 1 : 2;
}

/** A `setupClient` step adding each connection a client opens, and its handshakes, to `tally`. */
export function countHandshakes(tally: HandshakeTally): (client: unknown) => void {
  return (autocannonClient) => {
    const client = autocannonClient as ConnectingClient;
    const connect = client._connect;
    client._connect = function countedConnect(this: ConnectingClient) {
      connect.call(this);
      tally.connections += 1;
      tally.roundTrips += 1;
      const socket = this.conn;
      if (socket?.encrypted) socket.once('secureConnect', () => (tally.roundTrips += tlsRoundTrips(socket as unknown as TLSSocket)));
    };
  };
}
