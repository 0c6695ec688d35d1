// What kind of machine the target is (CPU, memory, swap, kernel, DMI product), stored with each
// run so a baseline measured on another machine is flagged (the host key's fingerprint is another
// fact, in remote/). Read from the host itself, never from a cloud metadata service. The command is
// one read-only sh script; parsing its output is pure.

import { formatMib } from '../units.ts';
import { parseMeminfo } from './proc-parsers.ts';

export interface HostMachine {
  kernel: string;
  cpuModel: string | null;
  cpuCount: number;
  memTotalKib: number | null;
  swapTotalKib: number | null;
  /** DMI product name (a cloud instance type such as `m5.large`, or the hypervisor's model). */
  product: string | null;
  vendor: string | null;
}

const SECTIONS = ['kernel', 'cpuinfo', 'meminfo', 'product', 'vendor'] as const;
type Section = (typeof SECTIONS)[number];

export const MACHINE_COMMAND = `sh -c '
echo @kernel; uname -r
echo @cpuinfo; grep -E "^(processor|model name)[[:space:]]*:" /proc/cpuinfo
echo @meminfo; grep -E "^(MemTotal|SwapTotal):" /proc/meminfo
echo @product; cat /sys/class/dmi/id/product_name 2>/dev/null
echo @vendor; cat /sys/class/dmi/id/sys_vendor 2>/dev/null
true'`;

export function parseMachine(output: string): HostMachine {
  const sections = splitSections(output);
  const cpuLines = sections.cpuinfo.split('\n');
  const modelLine = cpuLines.find((line) => line.startsWith('model name'));
  const meminfo = parseMeminfo(sections.meminfo);
  return {
    kernel: sections.kernel.trim(),
    cpuModel: modelLine
      ? modelLine
          .slice(modelLine.indexOf(':') + 1)
          .trim()
          .replace(/\s+/g, ' ')
      : null,
    cpuCount: cpuLines.filter((line) => line.startsWith('processor')).length,
    memTotalKib: meminfo.memTotalKib,
    swapTotalKib: meminfo.swapTotalKib,
    product: sections.product.trim() || null,
    vendor: sections.vendor.trim() || null,
  };
}

function splitSections(output: string): Record<Section, string> {
  const sections = Object.fromEntries(SECTIONS.map((name) => [name, ''])) as Record<Section, string>;
  let current: Section | null = null;
  for (const line of output.split('\n')) {
    const heading = SECTIONS.find((name) => line === `@${name}`);
    if (heading) current = heading;
    else if (current) sections[current] += `${line}\n`;
  }
  return sections;
}

// Memory within 2 %: the kernel reserves a little more or less after an upgrade.
const MEMORY_TOLERANCE = 0.02;

/** Plain-language differences that make two runs' latencies hard to compare; empty when alike. */
export function machineDifferences(baseline: HostMachine, current: HostMachine): string[] {
  const differences: string[] = [];
  const changed = (label: string, before: string | number | null, after: string | number | null) => {
    if (before !== after) differences.push(`${label}: ${before ?? 'unknown'} → ${after ?? 'unknown'}`);
  };
  changed('machine', describeMachine(baseline), describeMachine(current));
  changed('CPU', baseline.cpuModel, current.cpuModel);
  changed('CPU count', baseline.cpuCount, current.cpuCount);
  if (!similarMemory(baseline.memTotalKib, current.memTotalKib)) {
    changed('memory', formatMib(baseline.memTotalKib), formatMib(current.memTotalKib));
  }
  changed('swap', formatMib(baseline.swapTotalKib), formatMib(current.swapTotalKib));
  changed('kernel', baseline.kernel, current.kernel);
  return differences;
}

export function describeMachine(machine: HostMachine): string | null {
  const parts = [machine.vendor, machine.product].filter((part): part is string => part !== null);
  return parts.length > 0 ? parts.join(' ') : null;
}

function similarMemory(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= MEMORY_TOLERANCE * Math.max(a, b);
}
