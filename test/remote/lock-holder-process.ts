// Run by lock.test.ts as a separate process that takes the target lock and is then SIGKILLed:
// the lock must come free without any goodbye from us. Settings arrive as JSON on stdin.

import { text } from 'node:stream/consumers';
import { acquireLock } from '../../src/remote/lock.ts';
import { connectTarget } from '../../src/remote/ssh.ts';
import { silentLog } from '../../src/log.ts';

const { ssh, directory } = JSON.parse(await text(process.stdin));
const host = await connectTarget(ssh, silentLog);
await acquireLock(host, { timeoutMs: 10_000, holder: { runId: 'crashing-run', repository: 'octo/crash' }, directory }, silentLog);
process.stdout.write('acquired\n');
setInterval(() => {}, 1_000); // hold until killed
