import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { machineDifferences, parseMachine } from '../../src/watch/machine.ts';

const OUTPUT = `@kernel
6.1.0-18-cloud-amd64
@cpuinfo
processor	: 0
model name	: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz
processor	: 1
model name	: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz
@meminfo
MemTotal:         995568 kB
SwapTotal:             0 kB
@product
t3.micro
@vendor
Amazon EC2
`;

describe('host machine', { timeout: 10_000 }, () => {
  test('kernel, CPU, memory, swap and the DMI instance type', () => {
    assert.deepEqual(parseMachine(OUTPUT), {
      kernel: '6.1.0-18-cloud-amd64',
      cpuModel: 'Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz',
      cpuCount: 2,
      memTotalKib: 995568,
      swapTotalKib: 0,
      product: 't3.micro',
      vendor: 'Amazon EC2',
    });
  });

  test('unreadable DMI is null, not an empty string', () => {
    const machine = parseMachine(OUTPUT.replace('t3.micro\n', '').replace('Amazon EC2\n', ''));
    assert.equal(machine.product, null);
    assert.equal(machine.vendor, null);
  });

  test('a different machine is described; a small memory wobble is not', () => {
    const base = parseMachine(OUTPUT);
    assert.deepEqual(machineDifferences(base, { ...base, memTotalKib: 995568 + 4000 }), []);
    assert.deepEqual(machineDifferences(base, { ...base, product: 't3.small', memTotalKib: 2_000_000, cpuCount: 2 }), [
      'machine: Amazon EC2 t3.micro → Amazon EC2 t3.small',
      'memory: 972 MB → 1953 MB',
    ]);
  });
});
