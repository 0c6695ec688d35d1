// The sampler's last sample: taken when it is stopped (after the burst), not at its next tick.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { silentLog } from '../../src/log.ts';
import { startSampler } from '../../src/watch/sampler.ts';
import { localHost } from '../support/local-host.ts';

const uptimeSec = () => Number.parseFloat(readFileSync('/proc/uptime', 'utf8'));

describe('host sampler stop', { timeout: 30_000 }, () => {
  test('stopping prints one last sample, taken after the stop was asked for', { timeout: 10_000 }, async () => {
    const sampler = startSampler(localHost(), silentLog);
    const first = await sampler.nextSample(5000);
    assert.ok(first, 'no first sample');
    const askedAt = uptimeSec();
    const last = await sampler.stop();
    assert.ok(last, 'stop() gave no last sample');
    assert.ok(last.uptimeSec >= askedAt, `last sample at ${last.uptimeSec} s, stop asked at ${askedAt} s`);
    assert.deepEqual(sampler.samples, [first, last]);
    assert.equal(sampler.endedEarly, null);
  });

  test('a tick less than 0.5 s before the last sample gives way to it; the first sample stays', { timeout: 10_000 }, async () => {
    const sampler = startSampler(localHost(), silentLog);
    const first = await sampler.nextSample(5000);
    const tick = await sampler.nextSample(3000);
    assert.ok(first && tick, 'no samples');
    const last = await sampler.stop();
    assert.ok(last, 'stop() gave no last sample');
    // How soon the stop lands after the tick depends on the machine's load: both cases are rules.
    const expected = last.uptimeSec - tick.uptimeSec < 0.5 ? [first, last] : [first, tick, last];
    assert.deepEqual(sampler.samples, expected);
  });
});
