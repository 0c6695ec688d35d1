// `npm run test:e2e` and `npm run bench` on a machine that lacks their Debian packages: as root
// they install them with apt (as `npm test` does); as anyone else they stop at once with one line
// naming the packages and the command. Here they run as `nobody` on a PATH without the tools.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;
const NOBODY = 65534;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runAsNobody(command: string, args: string[], path: string): Promise<Run> {
  const started = Date.now();
  const env = { PATH: path, HOME: '/nonexistent' };
  const child = spawn(command, args, { cwd: ROOT, uid: NOBODY, gid: NOBODY, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

describe('a machine without the Debian packages, not root', { timeout: 90_000 }, () => {
  let bin: string;

  before(async () => {
    // A PATH holding only what the scripts need to start: no qemu, no ssh, no wrk.
    bin = await mkdtemp(join(tmpdir(), 'loadgate-fresh-path-'));
    await chmod(bin, 0o755);
    for (const tool of ['bash', 'id', 'ls', 'dirname']) await symlink(`/usr/bin/${tool}`, join(bin, tool));
    await symlink(process.execPath, join(bin, 'node'));
  });
  after(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  it('`npm run test:e2e` stops at once, naming the packages and the apt-get command', async () => {
    const run = await runAsNobody('/usr/bin/bash', ['test/e2e/run.sh'], bin);
    assert.equal(run.code, 1, run.stderr);
    const packages = 'qemu-system-x86 qemu-utils [a-z0-9 .-]*openssh-client[a-z0-9 .-]*';
    const command = `\\(Debian: sudo apt-get install ${packages}\\)`;
    assert.match(run.stderr, new RegExp(`^test:e2e: missing ${packages}; install them ${command} and run again as root\n$`));
    assert.equal(run.stdout, '');
    assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
  });

  it('`npm run bench` stops at once, naming wrk and the apt-get command', async () => {
    const run = await runAsNobody(join(ROOT, 'node_modules/.bin/tsx'), ['bench/run.ts', '--quick'], bin);
    assert.equal(run.code, 1, run.stderr);
    // nginx and sshd may be missing too: they are looked for at fixed paths, not on PATH.
    assert.match(run.stderr, /^bench: missing wrk[a-z -]*; install them \(Debian: sudo apt-get install wrk[a-z -]*\) and run again\n$/);
    assert.equal(run.stdout, '');
  });
});
