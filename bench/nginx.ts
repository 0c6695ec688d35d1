// Our own nginx on 127.0.0.1 (the Debian package's binary, a temp config): one worker, a small
// static file, no access log, so the throughput figures measure the generators, not the disk.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForHttp } from './net.ts';

const NGINX = '/usr/sbin/nginx';

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

export function nginxVersion(): string {
  const result = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return (result.stderr || result.stdout).trim().replace(/^nginx version: /, '');
}

export async function startNginx(): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-bench-nginx-'));
  const port = await freePort();
  await writeFile(join(dir, 'index.html'), 'hello from nginx\n');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${dir}/${kind};`).join('\n  ');
  await writeFile(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  ${temp}
  server {
    listen 127.0.0.1:${port};
    root ${dir};
    location / { try_files /index.html =404; }
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitForHttp(url, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`nginx did not start: ${stderr.trim() || (error as Error).message}`);
  }
  return {
    url,
    async stop() {
      // SIGQUIT is nginx's graceful stop; the master takes its worker with it.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
