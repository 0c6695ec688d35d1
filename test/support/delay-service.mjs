// A test service for a delay-line namespace: `node delay-service.mjs HOST PORT CONTROL_FILE`.
// Each request reads CONTROL_FILE ({"mode":"sleep"|"cpu"|"mixed", ...}): `sleep` answers after
// `ms` without using the CPU (an I/O-bound handler: requests overlap), `cpu` spins `ms` (a
// CPU-bound handler: requests queue behind each other), `mixed` spins `cpuMs` and then sleeps
// `sleepMs` (a handler that computes, then waits on its database), and with `tailShare` a share of
// requests sleeps `tailMs` more; with `close` every response says `Connection: close` and the
// connection ends, as gunicorn's sync workers do. Prints "listening" when it accepts connections.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [host, port, control] = process.argv.slice(2);
let last = { mode: 'sleep', ms: 0 };
// The test replaces the file by rename, so a read sees the old or the new file; a failed read keeps the last.
const behaviour = () => {
  try {
    last = JSON.parse(readFileSync(control, 'utf8'));
  } catch {}
  return last;
};

const spin = (ms) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

createServer((_request, response) => {
  const { mode, ms = 0, cpuMs = 0, sleepMs = 0, tailShare = 0, tailMs = 0, close = false } = behaviour();
  if (close) response.setHeader('Connection', 'close');
  const reply = () => response.end('ok');
  const tail = Math.random() < tailShare ? tailMs : 0;
  if (mode === 'cpu') {
    spin(ms);
    reply();
  } else if (mode === 'mixed') {
    spin(cpuMs);
    setTimeout(reply, sleepMs + tail);
  } else setTimeout(reply, ms + tail);
}).listen(Number(port), host, () => console.log('listening'));
