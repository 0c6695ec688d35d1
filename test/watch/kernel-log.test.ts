import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseOomKills } from '../../src/watch/kernel-log.ts';

describe('OOM kills in kernel log text', { timeout: 10_000 }, () => {
  test('journalctl short-unix: pid, name, anon-rss in MB and the time', () => {
    const text = [
      '1700000000.100000 staging kernel: gunicorn invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0',
      '1700000000.200000 staging kernel: Out of memory: Killed process 812 (gunicorn) total-vm:512000kB, anon-rss:419840kB, file-rss:1024kB, shmem-rss:0kB, UID:1000 pgtables:1000kB oom_score_adj:0',
      '1700000001.000000 staging kernel: oom_reaper: reaped process 812 (gunicorn), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB',
    ].join('\n');
    assert.deepEqual(parseOomKills(text, null), [
      {
        pid: 812,
        name: 'gunicorn',
        anonRssMb: 410,
        atEpochSec: 1700000000.2,
        scope: 'host',
        line: 'Out of memory: Killed process 812 (gunicorn) total-vm:512000kB, anon-rss:419840kB, file-rss:1024kB, shmem-rss:0kB, UID:1000 pgtables:1000kB oom_score_adj:0',
      },
    ]);
  });

  test('dmesg: seconds since boot placed on the host clock; the memory cgroup form', () => {
    const text = [
      '[  672.913352] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,task=lg-oom-probe,pid=16776,uid=0',
      '[  672.913388] Memory cgroup out of memory: Killed process 16776 (lg-oom-probe) total-vm:1057228kB, anon-rss:64512kB, file-rss:30936kB, shmem-rss:0kB, UID:0 pgtables:572kB oom_score_adj:0',
    ].join('\n');
    const [kill] = parseOomKills(text, 1795550324);
    assert.equal(kill?.pid, 16776);
    assert.equal(kill?.name, 'lg-oom-probe');
    assert.equal(kill?.anonRssMb, 63);
    assert.equal(kill?.scope, 'memory-cgroup');
    assert.ok(Math.abs(kill!.atEpochSec! - (1795550324 + 672.913388)) < 1e-6);
    assert.equal(parseOomKills(text, null)[0]?.atEpochSec, null);
  });

  test('names with spaces or parentheses, and old kernels without anon-rss', () => {
    const text = [
      '[ 10.0] Out of memory: Killed process 77 ((sd-pam)) total-vm:100kB, anon-rss:2048kB, file-rss:0kB',
      '[ 11.0] Out of memory: Killed process 78 (Web Content) total-vm:100kB, anon-rss:1024kB',
      'Killed process 79 (java), UID 0, total-vm:100kB',
    ].join('\n');
    assert.deepEqual(
      parseOomKills(text, 0).map(({ pid, name, anonRssMb }) => ({ pid, name, anonRssMb })),
      [
        { pid: 77, name: '(sd-pam)', anonRssMb: 2 },
        { pid: 78, name: 'Web Content', anonRssMb: 1 },
        { pid: 79, name: 'java', anonRssMb: null },
      ],
    );
  });

  test('nothing else counts as a kill', () => {
    const text = '[ 1.0] EXT4-fs (vda): mounted filesystem\n[ 2.0] oom_reaper: reaped process 812 (gunicorn)\n';
    assert.deepEqual(parseOomKills(text, 0), []);
  });
});
