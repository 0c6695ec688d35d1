// A test service for a delay-line namespace: `node delay-service.mjs HOST PORT CONTROL_FILE`.
// Each request reads CONTROL_FILE ({"mode":"sleep"|"cpu","ms":N}): `sleep` answers after N ms
// without using the CPU (an I/O-bound handler: requests overlap), `cpu` spins N ms (a CPU-bound
// handler: requests queue behind each other). Prints "listening" when it accepts connections.
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

createServer((_request, response) => {
  const { mode, ms } = behaviour();
  const reply = () => response.end('ok');
  if (mode === 'cpu') {
    const until = performance.now() + ms;
    while (performance.now() < until);
    reply();
  } else setTimeout(reply, ms);
}).listen(Number(port), host, () => console.log('listening'));
