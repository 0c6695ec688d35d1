import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseBootTime,
  parseLoadavg,
  parseMeminfo,
  parsePressure,
  parseStatCpu,
  parseVmstat,
  stealPercent,
} from '../../src/watch/proc-parsers.ts';
import { parseSampleLine } from '../../src/watch/sample-line.ts';

const MEMINFO = `MemTotal:         995568 kB
MemFree:           61232 kB
MemAvailable:      43120 kB
Buffers:            1024 kB
SwapCached:            0 kB
Active(anon):     812000 kB
SwapTotal:       2097148 kB
SwapFree:        1835004 kB
HugePages_Total:       0
`;

const VMSTAT = `nr_free_pages 15308
pgmajfault 10421
pswpin 5120
pswpout 9000
oom_kill 2
pgpgin 100
`;

const STAT_BEFORE = `cpu  1000 10 500 8000 40 0 20 30 5 0
cpu0 500 5 250 4000 20 0 10 15 0 0
intr 12345
btime 1700000000
`;
const STAT_AFTER = `cpu  1100 10 550 8100 40 0 20 80 5 0
btime 1700000000
`;

describe('proc parsers', { timeout: 10_000 }, () => {
  test('meminfo: the fields we use, in KiB; missing ones are null', () => {
    assert.deepEqual(parseMeminfo(MEMINFO), {
      memTotalKib: 995568,
      memAvailableKib: 43120,
      swapTotalKib: 2097148,
      swapFreeKib: 1835004,
    });
    assert.deepEqual(parseMeminfo('MemTotal: 1000 kB\n'), {
      memTotalKib: 1000,
      memAvailableKib: null,
      swapTotalKib: null,
      swapFreeKib: null,
    });
  });

  test('vmstat: swap, major faults and oom_kill; no oom_kill counter means unknown', () => {
    assert.deepEqual(parseVmstat(VMSTAT), { pswpin: 5120, pswpout: 9000, pgmajfault: 10421, oomKill: 2 });
    assert.equal(parseVmstat('pswpin 1\npswpout 2\n').oomKill, null);
  });

  test('pressure: some and full avg10; an absent file is unknown, not zero', () => {
    const text = 'some avg10=12.50 avg60=3.10 avg300=0.70 total=123456\nfull avg10=4.25 avg60=1.00 avg300=0.20 total=9999\n';
    assert.deepEqual(parsePressure(text), { someAvg10: 12.5, fullAvg10: 4.25 });
    assert.deepEqual(parsePressure(''), { someAvg10: null, fullAvg10: null });
  });

  test('stat: steal is a share of the time between two samples', () => {
    const before = parseStatCpu(STAT_BEFORE)!;
    const after = parseStatCpu(STAT_AFTER)!;
    // guest (5) is already inside user: the total counts the first eight fields only.
    assert.deepEqual(before, { total: 9600, steal: 30 });
    assert.deepEqual(after, { total: 9900, steal: 80 });
    assert.ok(Math.abs(stealPercent(before, after)! - (50 / 300) * 100) < 1e-9);
    assert.equal(stealPercent(after, after), null);
    assert.equal(parseStatCpu('cpu0 1 2 3\n'), null);
    assert.equal(parseBootTime(STAT_BEFORE), 1700000000);
  });

  test('loadavg', () => {
    assert.deepEqual(parseLoadavg('1.52 0.80 0.31 3/181 24066\n'), { load1: 1.52, load5: 0.8, load15: 0.31 });
    assert.equal(parseLoadavg(''), null);
  });

  test('a sampler line decodes through the same parsers; anything else is rejected', () => {
    const line =
      '812.40 1500.00|MemTotal: 995568 kB;MemAvailable: 43120 kB;SwapTotal: 0 kB;SwapFree: 0 kB|pswpin 0;pswpout 0;pgmajfault 77;oom_kill 1|cpu  1000 10 500 8000 40 0 20 30 5 0;btime 1700000000||0.50 0.40 0.30 1/100 42';
    const sample = parseSampleLine(line)!;
    assert.equal(sample.uptimeSec, 812.4);
    assert.equal(sample.hostEpochSec, 1700000812.4);
    assert.equal(sample.meminfo.memAvailableKib, 43120);
    assert.equal(sample.vmstat.oomKill, 1);
    assert.deepEqual(sample.cpu, { total: 9600, steal: 30 });
    assert.deepEqual(sample.pressure, { someAvg10: null, fullAvg10: null });
    assert.equal(sample.loadavg?.load1, 0.5);
    assert.equal(parseSampleLine('awk: not found'), null);
    assert.equal(parseSampleLine('1|2|3|4|5|6'), null);
  });
});
