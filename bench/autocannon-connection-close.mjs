// Reproduces autocannon's mis-timing of servers that close the connection after each response
// (docs/upstream/autocannon-connection-close.md). Self-contained on purpose, so it can go into an
// upstream issue as is: node:http and autocannon only, traffic to 127.0.0.1 only.
//
//   node bench/autocannon-connection-close.mjs
//
// Exit status 1: the bug reproduced (autocannon's p50 is far from the service time the server
// measured itself); 0: autocannon timed the server right.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

const SERVICE_MS = 60;
const server = createServer((request, response) => {
  request.resume();
  setTimeout(() => response.writeHead(200, { connection: 'close' }).end('ok'), SERVICE_MS);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const result = await autocannon({ url: `http://127.0.0.1:${server.address().port}/`, connections: 2, duration: 3 });
server.closeAllConnections();
server.close();

const { version } = createRequire(import.meta.url)('autocannon/package.json');
const p50 = result.latency.p50;
const wrong = Math.abs(p50 - SERVICE_MS) > SERVICE_MS * 0.25;
console.log(`autocannon ${version}, node ${process.version}: ${result.requests.total} requests, ${result.errors} errors`);
console.log(`server answers every request after ${SERVICE_MS} ms with Connection: close;`);
console.log(`autocannon p50 ${p50} ms, p99 ${result.latency.p99} ms`);
console.log(wrong ? 'REPRODUCED: the latency is not the service time' : 'not reproduced: autocannon timed the server right');
process.exitCode = wrong ? 1 : 0;
