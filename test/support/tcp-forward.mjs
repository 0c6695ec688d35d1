// A byte forwarder for tests: `node tcp-forward.mjs LISTEN TARGET`, each `HOST:PORT` or `unix:PATH`.
// Accepts connections on LISTEN and pipes each to a new connection to TARGET. A unix socket is
// seen from every network namespace, so a pair of forwarders (TCP in a delay-line namespace →
// unix socket → TCP on the root namespace's loopback) puts a port that only listens on 127.0.0.1,
// such as qemu's hostfwd, behind the delay line, crossing it once each way. Prints "listening".
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const address = (text) => {
  if (text.startsWith('unix:')) return { path: text.slice(5) };
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
};
const [listen, target] = process.argv.slice(2).map(address);
if (listen.path) rmSync(listen.path, { force: true });

createServer((client) => {
  const upstream = connect(target);
  client.setNoDelay(true);
  upstream.setNoDelay?.(true);
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).on('close', end);
  upstream.on('error', end).on('close', end);
}).listen(listen, () => console.log('listening'));
