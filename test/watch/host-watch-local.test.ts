// The host watch against this machine through a local shell (the SSH transport has its own test).
import { describe, test } from 'node:test';
import { localHost } from '../support/local-host.ts';
import { namesKillTheJournalLogsLate, reportsRealOomKill, reportsWorkerCrash, samplesRealProc } from './host-watch-scenarios.ts';

describe('host watch on this machine via a local shell', { timeout: 120_000 }, () => {
  test('samples the real /proc about once a second and leaves no sampler running', { timeout: 30_000 }, () => samplesRealProc(localHost()));
  test('reports a real OOM kill in a memory cgroup, with the process named', { timeout: 60_000 }, () => reportsRealOomKill(localHost()));
  test('names a kill the journal logs seconds after the kernel counted it', { timeout: 60_000 }, () =>
    namesKillTheJournalLogsLate(localHost()),
  );
  test('reports a gunicorn SIGKILL line from the logs-command as a worker crash', { timeout: 30_000 }, () =>
    reportsWorkerCrash(localHost()),
  );
});
